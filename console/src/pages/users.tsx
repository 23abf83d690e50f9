// Admin users (admin role only): create, change role, delete. A password typed here is sent
// once and dropped from the form.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmDialog, FormDialog } from '../components/dialog';
import { ErrorNotice, Loading } from '../components/error-notice';
import { Field } from '../components/field';
import { Table } from '../components/table';
import { formatTime } from '../format';
import { useLoad } from '../load';
import { useSession } from '../session';
import type { AdminUser, ListOf, Role } from '../types';

const ROLES: Role[] = ['admin', 'editor', 'viewer'];
const userPath = (username: string) => `/admin/users/${encodeURIComponent(username)}`;

export function UsersPage() {
  const session = useSession();
  const users = useLoad(() => api.get<ListOf<AdminUser>>('/admin/users'), []);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<AdminUser | null>(null);
  const [deleting, setDeleting] = useState<AdminUser | null>(null);

  return (
    <section aria-labelledby="users-title">
      <div class="page-head">
        <h1 id="users-title">Admin users</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create admin user
        </button>
      </div>
      <p class="muted">Admins may do everything; editors manage tenants but cannot delete them or manage users; viewers only read.</p>
      <ErrorNotice error={users.error} />
      {!users.data && users.loading && <Loading what="admin users" />}
      {users.data && (
        <Table caption="Admin users" head={['Username', 'Role', 'Created', '']}>
          {users.data.data.map((u) => (
            <tr key={u.username} data-user={u.username}>
              <td>
                {u.username}
                {u.username === session.username && <span class="muted"> (you)</span>}
              </td>
              <td>{u.role}</td>
              <td>{formatTime(u.created_at)}</td>
              <td>
                <div class="row-actions">
                  <button type="button" onClick={() => setEditing(u)}>
                    Change role<span class="sr-only"> of {u.username}</span>
                  </button>
                  <button type="button" class="danger" onClick={() => setDeleting(u)}>
                    Delete<span class="sr-only"> {u.username}</span>
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {creating && (
        <CreateUser
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            users.reload();
          }}
        />
      )}
      {editing && (
        <ChangeRole
          user={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            users.reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.username}?`}
          message={`"${deleting.username}" can no longer sign in; a session they hold ends.`}
          confirmLabel="Delete user"
          danger
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await api.delete(userPath(deleting.username));
            setDeleting(null);
            users.reload();
          }}
        />
      )}
    </section>
  );
}

function RoleSelect({ id, value, onChange }: { id: string; value: Role; onChange: (r: Role) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as Role)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

function CreateUser({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  return (
    <FormDialog
      title="Create admin user"
      submitLabel="Create user"
      onClose={onClose}
      onSubmit={async () => {
        await api.post('/admin/users', { username: username.trim(), password, role });
        setPassword('');
        onCreated();
      }}
    >
      <div class="fields">
        <Field id="user-name" label="Username">
          <input id="user-name" required autocomplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </Field>
        <Field id="user-password" label="Password">
          <input id="user-password" type="password" required autocomplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <Field id="user-role" label="Role">
          <RoleSelect id="user-role" value={role} onChange={setRole} />
        </Field>
      </div>
    </FormDialog>
  );
}

function ChangeRole({ user, onClose, onSaved }: { user: AdminUser; onClose: () => void; onSaved: () => void }) {
  const [role, setRole] = useState<Role>(user.role);
  return (
    <FormDialog
      title={`Change the role of ${user.username}`}
      submitLabel="Save role"
      onClose={onClose}
      onSubmit={async () => {
        await api.put(userPath(user.username), { role });
        onSaved();
      }}
    >
      <Field id="edit-role" label="Role">
        <RoleSelect id="edit-role" value={role} onChange={setRole} />
      </Field>
    </FormDialog>
  );
}
