// Connections: third-party credentials, encrypted with AES-256-GCM before they
// reach the database (the connection id is the associated data) and never
// returned by the API: only the names of their fields are.
import type { components } from '../../generated/api.d.ts';
import type { Encryptor } from '../crypto/aes-gcm.ts';
import type { ConnectionRepository, ConnectionRow } from '../db/repositories/connections.ts';
import type { Tx } from '../db/transaction.ts';
import { notFound } from '../errors.ts';
import type { Tenant } from '../tenant.ts';
import { newId } from './ids.ts';
import { byCreation, decodeCursor, toPage, type Page } from './pagination.ts';
import { iso, type Clock } from './time.ts';

export type Connection = components['schemas']['Connection'];
export type ConnectionInput = components['schemas']['ConnectionInput'];
type Row = ConnectionRow;

export class ConnectionService {
  constructor(
    private readonly repository: ConnectionRepository,
    private readonly clock: Clock,
    private readonly encryptor: Encryptor,
  ) {}

  // create and delete take the unit of work of their audit entry (handlers/connections.ts).
  async create(tenant: Tenant, input: ConnectionInput, tx: Tx): Promise<Connection> {
    const id = newId('conn');
    const now = iso(this.clock());
    const row = await this.repository.insert(
      tenant,
      {
        id,
        name: input.name,
        provider: input.provider,
        auth_type: input.auth_type,
        // Sorted: the Connection schema promises `credential_fields` in sorted order, not in the order sent.
        credential_fields: JSON.stringify(Object.keys(input.credentials).sort()),
        credentials_encrypted: this.encryptor.encrypt(JSON.stringify(input.credentials), id),
        created_at: now,
        updated_at: now,
        deleted_at: null,
      },
      tx,
    );
    return toConnection(row);
  }

  async list(tenant: Tenant, limit: number, cursor?: string): Promise<Page<Connection>> {
    const position = decodeCursor('connections', cursor);
    const rows = await this.repository.page(tenant, position, limit + 1);
    return toPage('connections', rows, limit, toConnection, byCreation);
  }

  async get(tenant: Tenant, id: string): Promise<Connection> {
    const row = await this.repository.find(tenant, id);
    if (!row) throw notFound('connection');
    return toConnection(row);
  }

  /** Deleting also destroys the ciphertext: a deleted credential cannot be recovered from the database. */
  async delete(tenant: Tenant, id: string, tx: Tx): Promise<void> {
    if (!(await this.repository.softDelete(tenant, id, iso(this.clock()), tx))) throw notFound('connection');
  }

  /** The decrypted credentials, for steps that call third parties (and for the at-rest test). */
  async credentials(tenant: Tenant, id: string): Promise<Record<string, string>> {
    const row = await this.repository.sealed(tenant, id);
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
