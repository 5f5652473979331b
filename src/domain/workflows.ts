// Workflows: definitions scoped to a project and environment. Deleted workflows
// are kept (soft delete) so that their runs keep pointing at something.
import { LRUCache } from 'lru-cache';
import type { components } from '../../generated/api.d.ts';
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { TaggedCache } from '../cache/tagged-cache.ts';
import { workflowListTag, workflowTag } from '../cache/tags.ts';
import type { WorkflowRepository, WorkflowRow, WorkflowVersionKey } from '../db/repositories/workflows.ts';
import type { Tx } from '../db/transaction.ts';
import { ApiError, notFound } from '../errors.ts';
import { jsonText, withJsonText } from '../json-text.ts';
import type { Tenant } from '../tenant.ts';
import { newId } from './ids.ts';
import { byCreation, decodeCursor, toPage, type Page } from './pagination.ts';
import { iso, type Clock } from './time.ts';

export type Workflow = components['schemas']['Workflow'];
export type WorkflowInput = components['schemas']['WorkflowInput'];
export type WorkflowStep = components['schemas']['WorkflowStep'];
type Row = WorkflowRow;
type VersionKey = WorkflowVersionKey;
const versionKey = (row: Pick<Row, 'id' | 'version'>): string => `${row.id}:${row.version}`;

/**
 * What the kept workflow versions may hold, in characters of JSON text (their objects
 * take about as much again): a tenant storing large definitions cannot grow the cache
 * beyond it. A version larger than the per-entry bound is not kept at all.
 */
const KEPT = { textBudget: 8 * 1024 * 1024, textPerEntry: 64 * 1024 };

/**
 * Which version of a workflow GET answers, by tenant and id, so that a GET of a kept
 * version reads nothing from the database. Unlike the versions themselves, this can go
 * stale: a replace or a delete invalidates it (src/cache/invalidation.ts) once it has
 * committed and before it is answered, and another process writing the SQLite file
 * empties it. The server uses it on SQLite only (src/compose.ts). The age bound covers a
 * change no invalidation announces (manual SQL).
 */
const CURRENT = { maxEntries: 20_000, maxAgeMs: 30_000 };

/**
 * A list page's keys (ids, versions and creation times of up to limit + 1 workflows), by
 * tenant, filter, position and size, so that a page whose versions are all kept reads
 * nothing from the database. Any create, replace or delete in the tenant invalidates its
 * pages once committed (so under writes to a tenant its pages are read again), and the
 * same rules as CURRENT apply. A page's keys take ~2 KB: 2,000 pages hold a few MB.
 */
const PAGES = { maxEntries: 2_000, maxAgeMs: 30_000 };

export class WorkflowService {
  /**
   * Workflows as answered, by id and version: a page of 20 parsed its 20 step lists on
   * every request (a quarter of a list query's time) and serialised them again. Every
   * field answered changes only with the version (a replace writes the definition, the
   * next version and updated_at in one statement; nothing else updates a workflow but
   * the soft delete, whose rows are never read here), so an entry can never be stale, on
   * one instance or several, and needs no invalidation. Entries are deep-frozen with their
   * JSON text (src/json-text.ts): one object answers many requests, and a caller that
   * tried to change it would throw rather than alter the next answer. Bounded by the
   * characters of their JSON text (KEPT), the least recently used going first; a version
   * larger than the per-entry bound is not kept, and is rebuilt whenever it is read.
   */
  readonly #versions: LRUCache<string, Workflow>;
  /** The version GET answers (its key in #versions), by tenant and id: see CURRENT. */
  readonly #current: TaggedCache<string>;
  /** A list page's keys, by tenant, filter, position and size: see PAGES. */
  readonly #pagesKept: TaggedCache<readonly VersionKey[]>;
  readonly #toWorkflow = (row: Row): Workflow => {
    const key = versionKey(row);
    const kept = this.#versions.get(key);
    if (kept !== undefined) return kept;
    const workflow = withJsonText(toWorkflow(row));
    this.#versions.set(key, workflow);
    return workflow;
  };

  /** How the caches of GET and of the list hear of creates, replaces and deletes (noCaching: they are not used). */
  private readonly invalidation: Invalidation;

  /** What the kept versions hold (tests). */
  keptVersions(): { count: number; textCharacters: number } {
    return { count: this.#versions.size, textCharacters: this.#versions.calculatedSize };
  }

  constructor(
    private readonly repository: WorkflowRepository,
    private readonly clock: Clock,
    options: { kept?: { textBudget: number; textPerEntry: number }; invalidation?: Invalidation } = {},
  ) {
    const kept = options.kept ?? KEPT;
    this.#versions = new LRUCache({
      maxSize: kept.textBudget,
      maxEntrySize: kept.textPerEntry,
      sizeCalculation: (workflow) => jsonText(workflow).length,
    });
    this.invalidation = options.invalidation ?? noCaching();
    this.#current = new TaggedCache(this.invalidation, CURRENT);
    this.#pagesKept = new TaggedCache(this.invalidation, PAGES);
  }

  // create, replace and delete take the unit of work of their audit entry (handlers/workflows.ts);
  // the caches of GET and of the list hear of the change once it has committed.
  async create(tenant: Tenant, input: WorkflowInput, tx: Tx): Promise<Workflow> {
    checkConsistency(input);
    const now = iso(this.clock());
    const row = await this.repository.insert(
      tenant,
      { id: newId('wf'), ...definitionColumns(input), version: 1, created_at: now, updated_at: now, deleted_at: null },
      tx,
    );
    this.#announce(tx, tenant);
    return this.#toWorkflow(row);
  }

  /** Tells the caches of GET and of the list, once `tx` has committed, that the tenant's workflows (and `id`) changed. */
  #announce(tx: Tx, tenant: Tenant, id?: string): void {
    const tags = [workflowListTag(tenant.projectId, tenant.environment)];
    if (id !== undefined) tags.push(workflowTag(id));
    tx.afterCommit(() => this.invalidation.invalidate(tags));
  }

  /**
   * A page is first read as ids, versions and creation times only (or taken from PAGES):
   * when every version on it is kept, it is answered from them without reading the rows'
   * other columns (the steps' JSON, names, descriptions: most of a page query's time).
   * Otherwise the page is read again whole. Either way the answer comes from one query's
   * snapshot (kept versions never change), so a replace or delete running meanwhile cannot
   * split a page.
   */
  async list(
    tenant: Tenant,
    status: 'active' | 'paused' | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<Workflow>> {
    const list = `workflows:${status ?? ''}`;
    const position = decodeCursor(list, cursor);
    const request = { status, position, limit: limit + 1 };
    const pageKey = [
      tenant.projectId,
      tenant.environment,
      status ?? '',
      position?.createdAt ?? '',
      position?.id ?? '',
      request.limit,
    ].join('\u0000');
    let keys = this.#pagesKept.get(pageKey);
    if (keys === undefined) {
      const generation = this.#pagesKept.generation;
      // Frozen: one array answers many requests.
      keys = Object.freeze((await this.repository.pageKeys(tenant, request)).map((key) => Object.freeze(key)));
      this.#pagesKept.set(pageKey, keys, [workflowListTag(tenant.projectId, tenant.environment)], generation);
    }
    // The extra key (limit + 1) only says whether another page exists.
    if (keys.slice(0, limit).every((key) => this.#versions.has(versionKey(key)))) {
      return toPage(list, keys, limit, (key) => this.#versions.get(versionKey(key))!, byCreation);
    }
    const rows = await this.repository.page(tenant, request);
    return toPage(list, rows, limit, this.#toWorkflow, byCreation);
  }

  async get(tenant: Tenant, id: string): Promise<Workflow> {
    // The tenant is part of the key: an id alone never reaches another project's workflow.
    const cacheKey = `${tenant.projectId}\u0000${tenant.environment}\u0000${id}`;
    const current = this.#current.get(cacheKey);
    const kept = current === undefined ? undefined : this.#versions.get(current);
    if (kept !== undefined) return kept;
    const generation = this.#current.generation;
    const row = await this.repository.find(tenant, id);
    if (!row) throw notFound('workflow');
    const workflow = this.#toWorkflow(row);
    // A version too large to be kept cannot be answered from memory: nothing to remember.
    const key = versionKey(row);
    if (this.#versions.has(key)) this.#current.set(cacheKey, key, [workflowTag(row.id)], generation);
    return workflow;
  }

  /** The stored row as `tx` sees it, for the run service (it needs the raw definition). */
  async row(tenant: Tenant, id: string, options: { includeDeleted?: boolean }, tx: Tx): Promise<Row> {
    const row = await this.repository.findIn(tenant, id, { includeDeleted: options.includeDeleted ?? false }, tx);
    if (!row) throw notFound('workflow');
    return row;
  }

  async replace(tenant: Tenant, id: string, input: WorkflowInput, tx: Tx): Promise<Workflow> {
    checkConsistency(input);
    const row = await this.repository.replace(tenant, id, definitionColumns(input), iso(this.clock()), tx);
    if (!row) throw notFound('workflow');
    this.#announce(tx, tenant, id);
    return this.#toWorkflow(row);
  }

  async delete(tenant: Tenant, id: string, tx: Tx): Promise<void> {
    if (!(await this.repository.softDelete(tenant, id, iso(this.clock()), tx))) throw notFound('workflow');
    this.#announce(tx, tenant, id);
  }

  /** Active workflows of the tenant listening for `eventType`, as `tx` sees them. */
  listeningTo(tenant: Tenant, eventType: string, tx: Tx): Promise<Row[]> {
    return this.repository.listeningTo(tenant, eventType, tx);
  }
}

/** What the schema cannot say: step ids are unique within the workflow. */
function checkConsistency(input: WorkflowInput): void {
  const seen = new Set<string>();
  for (const step of input.steps) {
    if (seen.has(step.id))
      throw new ApiError(
        'invalid_workflow_definition',
        `Step id "${step.id}" is used twice: step ids must be unique within a workflow.`,
      );
    seen.add(step.id);
  }
}

function definitionColumns(input: WorkflowInput) {
  return {
    name: input.name,
    description: input.description ?? null,
    status: input.status ?? 'active',
    trigger_type: input.trigger.type,
    event_type: input.trigger.type === 'event' ? input.trigger.event_type : null,
    steps: JSON.stringify(
      input.steps.map((step) => (step.type === 'log' ? { ...step, level: step.level ?? 'info' } : step)),
    ),
  } as const;
}

export function toWorkflow(row: Row): Workflow {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    trigger:
      row.trigger_type === 'event' && row.event_type
        ? { type: 'event', event_type: row.event_type }
        : { type: 'manual' },
    steps: JSON.parse(row.steps) as WorkflowStep[],
    environment: row.environment,
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
