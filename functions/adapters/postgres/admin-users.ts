// Admin users in PostgreSQL: one row each; the password only as its scrypt hash.
import { StoreConflictError, type AdminRole, type AdminUser, type AdminUserRepository } from '../../core/ports';
import { isUniqueViolation, type PgDatabase } from './pool';

const COLUMNS = 'username, role, password_hash, created_at, updated_at';

interface Row {
  username: string;
  role: string;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

const toUser = (r: Row): AdminUser => ({ ...r, role: r.role as AdminRole });

export class PgAdminUserRepository implements AdminUserRepository {
  constructor(private readonly db: PgDatabase) {}

  async get(username: string): Promise<AdminUser | null> {
    const [row] = await this.db.query<Row>({ name: 'admin_user_get', text: `SELECT ${COLUMNS} FROM admin_users WHERE username = $1` }, [username]);
    return row ? toUser(row) : null;
  }

  async list(): Promise<AdminUser[]> {
    return (await this.db.query<Row>({ text: `SELECT ${COLUMNS} FROM admin_users ORDER BY username` })).map(toUser);
  }

  async create(user: AdminUser): Promise<void> {
    try {
      await this.db.query({ text: `INSERT INTO admin_users (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)` }, values(user));
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`admin user "${user.username}" already exists`);
      throw err;
    }
  }

  async update(user: AdminUser): Promise<boolean> {
    const rows = await this.db.query(
      { text: 'UPDATE admin_users SET role = $2, password_hash = $3, created_at = $4, updated_at = $5 WHERE username = $1 RETURNING username' },
      values(user),
    );
    return rows.length > 0;
  }

  async delete(username: string): Promise<boolean> {
    return (await this.db.query({ text: 'DELETE FROM admin_users WHERE username = $1 RETURNING username' }, [username])).length > 0;
  }
}

const values = (u: AdminUser): string[] => [u.username, u.role, u.password_hash, u.created_at, u.updated_at];
