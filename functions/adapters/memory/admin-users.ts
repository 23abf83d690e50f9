// In-process admin users (the embedded default). Copies in and out, like the other memory stores.
import { StoreConflictError, type AdminUser, type AdminUserRepository } from '../../core/ports';

export class MemoryAdminUserRepository implements AdminUserRepository {
  private readonly users = new Map<string, AdminUser>();

  async get(username: string): Promise<AdminUser | null> {
    const user = this.users.get(username);
    return user ? { ...user } : null;
  }

  async list(): Promise<AdminUser[]> {
    return [...this.users.values()].map((u) => ({ ...u }));
  }

  async create(user: AdminUser): Promise<void> {
    if (this.users.has(user.username)) throw new StoreConflictError(`admin user "${user.username}" already exists`);
    this.users.set(user.username, { ...user });
  }

  async update(user: AdminUser): Promise<boolean> {
    if (!this.users.has(user.username)) return false;
    this.users.set(user.username, { ...user });
    return true;
  }

  async delete(username: string): Promise<boolean> {
    return this.users.delete(username);
  }
}
