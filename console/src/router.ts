// Hash routes (#/tenants/abc): every page is index.html itself, so a reload, a bookmark or the
// deployed API's stage prefix never needs the server to know the console's pages.
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'overview' } | { page: 'tenants' } | { page: 'tenant'; id: string } | { page: 'users' } | { page: 'audit' } | { page: 'not-found' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [first, second] = parts;
  if (first === undefined || first === 'overview') return { page: 'overview' };
  if (first === 'tenants' && second === undefined) return { page: 'tenants' };
  if (first === 'tenants' && second !== undefined && parts.length === 2) return { page: 'tenant', id: decodeURIComponent(second) };
  if (first === 'users' && parts.length === 1) return { page: 'users' };
  if (first === 'audit' && parts.length === 1) return { page: 'audit' };
  return { page: 'not-found' };
}

export const href = {
  overview: '#/overview',
  tenants: '#/tenants',
  tenant: (id: string) => `#/tenants/${encodeURIComponent(id)}`,
  users: '#/users',
  audit: '#/audit',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
