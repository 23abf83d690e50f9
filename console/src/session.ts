// The signed-in admin as every page sees it: who, in which role, and what that role may do.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Permission, Session } from './types';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** What the role may do; what it may not is not offered at all. */
export function useCan(): (permission: Permission) => boolean {
  const session = useSession();
  return (permission) => session.permissions.includes(permission);
}
