// The console's shell: the session (asked of the API on load, never stored by the page), the
// navigation the role may use, and the page the hash names.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, setSessionToken, whenSignedOut } from './api';
import { Loading } from './components/error-notice';
import { AuditPage } from './pages/audit';
import { OverviewPage } from './pages/overview';
import { SignIn } from './pages/sign-in';
import { TenantDetailPage } from './pages/tenant-detail';
import { TenantsPage } from './pages/tenants';
import { UsersPage } from './pages/users';
import { href, type Route, useRoute } from './router';
import { SessionContext } from './session';
import type { Session } from './types';

type SessionState = { kind: 'checking' } | { kind: 'signed-out'; notice: string | null } | { kind: 'signed-in'; session: Session };

export function App() {
  const [state, setState] = useState<SessionState>({ kind: 'checking' });
  const signedIn = useCallback((session: Session) => {
    setSessionToken(session);
    setState({ kind: 'signed-in', session });
  }, []);
  const signedOut = useCallback((notice: string | null) => {
    setSessionToken(null);
    setState({ kind: 'signed-out', notice });
  }, []);

  useEffect(() => {
    whenSignedOut(() => signedOut('Your session has ended. Sign in again.'));
    api.get<Session>('/admin/session').then(signedIn, (err: unknown) => {
      signedOut(err instanceof ApiError && err.status === 401 ? null : 'The gateway could not be reached.');
    });
  }, [signedIn, signedOut]);

  if (state.kind === 'checking') return <Loading what="the console" />;
  if (state.kind === 'signed-out') return <SignIn onSignedIn={signedIn} notice={state.notice} />;
  const signOut = async () => {
    await api.delete('/admin/session').catch(() => undefined);
    signedOut('You are signed out.');
  };
  return (
    <SessionContext.Provider value={state.session}>
      <Shell session={state.session} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);
  // A new page takes the focus, so keyboard and screen-reader users start at its top.
  useEffect(() => {
    if (firstRoute.current) firstRoute.current = false;
    else main.current?.focus();
  }, [route]);
  const canManageUsers = session.permissions.includes('admin:manage');
  const canReadUsage = session.permissions.includes('usage:read');
  const links: Array<{ to: string; label: string; active: boolean }> = [
    ...(canReadUsage ? [{ to: href.overview, label: 'Overview', active: route.page === 'overview' }] : []),
    { to: href.tenants, label: 'Tenants', active: route.page === 'tenants' || route.page === 'tenant' },
    ...(canManageUsers ? [{ to: href.users, label: 'Admin users', active: route.page === 'users' }] : []),
    ...(canManageUsers ? [{ to: href.audit, label: 'Audit log', active: route.page === 'audit' }] : []),
  ];
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">AI Gateway</span>
        <nav aria-label="Console">
          <ul>
            {links.map((l) => (
              <li key={l.to}>
                <a href={l.to} aria-current={l.active ? 'page' : undefined}>
                  {l.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          <span data-testid="who">
            {session.username} · {session.role}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} canReadUsage={canReadUsage} canManageUsers={canManageUsers} />
      </main>
    </>
  );
}

function Page({ route, canReadUsage, canManageUsers }: { route: Route; canReadUsage: boolean; canManageUsers: boolean }) {
  switch (route.page) {
    case 'overview':
      return canReadUsage ? <OverviewPage /> : <TenantsPage />;
    case 'tenants':
      return <TenantsPage />;
    case 'tenant':
      return <TenantDetailPage id={route.id} />;
    case 'users':
      return canManageUsers ? <UsersPage /> : <NotAllowed />;
    case 'audit':
      return canManageUsers ? <AuditPage /> : <NotAllowed />;
    default:
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            <a href={href.overview}>Back to the overview</a>
          </p>
        </section>
      );
  }
}

function NotAllowed() {
  return (
    <section>
      <h1>Not available</h1>
      <p>Your role may not open this page.</p>
    </section>
  );
}
