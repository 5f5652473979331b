// Connections: third-party credentials, encrypted with AES-256-GCM before they
// reach the database (the connection id is the associated data) and never
// returned by the API: only the names of their fields are.
import type { Kysely } from 'kysely';
import type { components } from '../../generated/api.d.ts';
import type { Encryptor } from '../crypto/aes-gcm.ts';
import type { Database } from '../db/schema.ts';
import { notFound } from '../errors.ts';
import { newId } from './ids.ts';
import { afterPosition, byCreation, decodeCursor, toPage, type Page } from './pagination.ts';
import type { Tenant } from '../tenant.ts';
import { iso, type Clock } from './time.ts';

export type Connection = components['schemas']['Connection'];
export type ConnectionInput = components['schemas']['ConnectionInput'];
type Row = Database['connections'];

export class ConnectionService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly encryptor: Encryptor,
  ) {}

  // create and delete take the transaction of their audit entry (handlers/connections.ts).
  async create(tenant: Tenant, input: ConnectionInput, executor: Kysely<Database> = this.db): Promise<Connection> {
    const id = newId('conn');
    const now = iso(this.clock());
    const row: Row = {
      id,
      project_id: tenant.projectId,
      environment: tenant.environment,
      name: input.name,
      provider: input.provider,
      auth_type: input.auth_type,
      // Sorted: the Connection schema promises `credential_fields` in sorted order, not in the order sent.
      credential_fields: JSON.stringify(Object.keys(input.credentials).sort()),
      credentials_encrypted: this.encryptor.encrypt(JSON.stringify(input.credentials), id),
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    await executor.insertInto('connections').values(row).execute();
    return toConnection(row);
  }

  async list(tenant: Tenant, limit: number, cursor?: string): Promise<Page<Connection>> {
    const position = decodeCursor('connections', cursor);
    let query = this.db
      .selectFrom('connections')
      .selectAll()
      .where('project_id', '=', tenant.projectId)
      .where('environment', '=', tenant.environment)
      .where('deleted_at', 'is', null);
    if (position) query = query.where(afterPosition(position));
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    return toPage('connections', rows, limit, toConnection, byCreation);
  }

  async get(tenant: Tenant, id: string): Promise<Connection> {
    const row = await this.db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', tenant.projectId)
      .where('environment', '=', tenant.environment)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw notFound('connection');
    return toConnection(row);
  }

  /** Deleting also destroys the ciphertext: a deleted credential cannot be recovered from the database. */
  async delete(tenant: Tenant, id: string, executor: Kysely<Database> = this.db): Promise<void> {
    const result = await executor
      .updateTable('connections')
      .set({ deleted_at: iso(this.clock()), credentials_encrypted: '' })
      .where('id', '=', id)
      .where('project_id', '=', tenant.projectId)
      .where('environment', '=', tenant.environment)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw notFound('connection');
  }

  /** The decrypted credentials, for steps that call third parties (and for the at-rest test). */
  async credentials(tenant: Tenant, id: string): Promise<Record<string, string>> {
    const row = await this.db
      .selectFrom('connections')
      .select(['id', 'credentials_encrypted'])
      .where('id', '=', id)
      .where('project_id', '=', tenant.projectId)
      .where('environment', '=', tenant.environment)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw notFound('connection');
    return JSON.parse(this.encryptor.decrypt(row.credentials_encrypted, row.id)) as Record<string, string>;
  }
}

function toConnection(row: Row): Connection {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    auth_type: row.auth_type,
    credential_fields: JSON.parse(row.credential_fields) as string[],
    environment: row.environment,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
