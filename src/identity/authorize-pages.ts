// The server-rendered login and consent pages of /oauth/authorize. No script, no
// external resource: a form that posts back to /oauth/authorize with the original
// request in hidden fields and the CSRF token. Every value is HTML-escaped.
import { escapeHtml } from './error-page.ts';
import type { ProjectChoice } from './user-directory.ts';
import type { ScopeDescriptions } from './scope-descriptions.ts';

export interface PageBase {
  appName: string;
  csrfToken: string;
  /** The authorization request's parameters, carried unchanged. */
  echo: Record<string, string>;
}

export interface LoginPage extends PageBase {
  /** Shown above the form, e.g. after a failed attempt. */
  alert?: string;
  email?: string;
}

export interface ConsentPage extends PageBase {
  userEmail: string;
  /** What the app will get: the requested scopes the user holds. */
  granted: readonly string[];
  /** Requested scopes the user does not hold: the app will not get them. */
  withheld: readonly string[];
  projects: readonly ProjectChoice[];
  describe: ScopeDescriptions;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}label{display:block;margin:.75rem 0}input[type=email],input[type=password],select{display:block;width:100%;padding:.4rem;margin-top:.25rem}button{padding:.5rem 1rem;margin:1rem .5rem 0 0}[role=alert]{color:#a4000f}';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body></html>
`;
}

function hiddenFields(base: PageBase): string {
  const fields = [`<input type="hidden" name="csrf_token" value="${escapeHtml(base.csrfToken)}">`];
  for (const [name, value] of Object.entries(base.echo))
    fields.push(`<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`);
  return fields.join('\n');
}

export function renderLoginPage(view: LoginPage): string {
  return page(
    'Sign in to AetherFlow',
    `<h1>Sign in to continue to ${escapeHtml(view.appName)}</h1>
${view.alert ? `<p role="alert">${escapeHtml(view.alert)}</p>\n` : ''}<form method="post" action="/oauth/authorize">
${hiddenFields(view)}
<label>Email <input type="email" name="email"${view.email ? ` value="${escapeHtml(view.email)}"` : ''} autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="deny" formnovalidate>Cancel</button>
</form>`,
  );
}

export function renderConsentPage(view: ConsentPage): string {
  const item = (scope: string) => `<li>${escapeHtml(view.describe(scope))} (${escapeHtml(scope)})</li>`;
  const options = view.projects
    .map(
      (project, index) =>
        `<option value="${escapeHtml(project.id)}"${index === 0 ? ' selected' : ''}>${escapeHtml(project.name)}</option>`,
    )
    .join('');
  const withheld = view.withheld.length
    ? `<p>It also asked for the following, which your role does not allow, so it will not get them:</p>\n<ul>${view.withheld.map(item).join('')}</ul>\n`
    : '';
  return page(
    `Authorize ${view.appName}`,
    `<h1>${escapeHtml(view.appName)} wants to access your AetherFlow account</h1>
<p>Signed in as ${escapeHtml(view.userEmail)}</p>
<p>If you allow it, it will be able to:</p>
<ul>${view.granted.map(item).join('')}</ul>
${withheld}<form method="post" action="/oauth/authorize">
${hiddenFields(view)}
<label>Project <select name="project_id">${options}</select></label>
<button type="submit" name="action" value="deny">Deny</button>
<button type="submit" name="action" value="approve">Allow</button>
</form>`,
  );
}
