// Prism's reasons, in our words. When Prism refuses a request it serves the
// contract's canned 400 example and puts the real reasons in its documented
// `sl-violations` response header: a JSON array of {location, code, message},
// where location is ["request", "body" | "query" | "header" | "path", ...] and
// message is the JSON Schema validator's message after a prefix naming the place
// ("Request body property steps.0.type must be ..."). This turns them into the
// `details` of our `validation_failed` envelope, located as the server locates
// them (`body.steps[0].type`, `query.limit`, `header.idempotency-key`,
// `params.workflow_id`).
import type { ValidationIssue } from '../errors.ts';

export interface Violation {
  location: string[];
  code: string | number;
  message: string;
}

/** The violations of an `sl-violations` header; [] when absent or unreadable. */
export function parseViolations(header: string | null | undefined): Violation[] {
  if (!header) return [];
  try {
    const value: unknown = JSON.parse(header);
    if (!Array.isArray(value)) return [];
    return value.flatMap((item: unknown) => {
      // Prism's fields: `code` a string or a number, `message` a string.
      const v = item as {
        location?: unknown;
        code?: string | number | null;
        message?: string | null;
        severity?: unknown;
      };
      if (v.severity !== undefined && v.severity !== 'Error') return [];
      return [
        {
          location: Array.isArray(v.location) ? v.location.map(String) : [],
          code: typeof v.code === 'number' ? v.code : String(v.code ?? ''),
          message: String(v.message ?? ''),
        },
      ];
    });
  } catch {
    return [];
  }
}

/** Where the server says a parameter lives: express-openapi-validator calls path parameters `params`. */
const PLACES: Record<string, string> = { body: 'body', query: 'query', header: 'header', path: 'params' };

/** The validation issues of the request violations, in order, without repeats. */
export function issuesOf(violations: Violation[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const violation of violations) {
    const [origin, place, ...path] = violation.location;
    if (origin !== 'request' || place === undefined || !(place in PLACES)) continue;
    let message = withoutPrefix(violation.message, place, path);
    const segments = [...path];
    // The validator reports a missing property at its parent; the server names the property itself.
    const missing = violation.code === 'required' ? /required property '([^']+)'/.exec(message)?.[1] : undefined;
    if (missing !== undefined) segments.push(missing);
    const location =
      PLACES[place]! + segments.map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`)).join('');
    message = message.slice(0, 500);
    const key = `${location}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ location, message });
  }
  return issues;
}

/** "Request body property steps.0.type must be ..." -> "must be ...". */
function withoutPrefix(message: string, place: string, path: string[]): string {
  const prefix = `Request ${place} ${path.length > 0 ? `${place === 'body' ? 'property' : 'parameter'} ${path.join('.')} ` : ''}`;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

export { describeIssues } from '../http/error-handler.ts';
