// Admin users in the "tenants" table: pk ADMIN#<username>, sk ADMIN, the user as attributes.
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreConflictError, type AdminUser, type AdminUserRepository } from '../../core/ports';
import { isConditionFailed, scanBySortKey } from './client';

const ADMIN_SK = 'ADMIN';
const userKey = (username: string) => ({ pk: `ADMIN#${username}`, sk: ADMIN_SK });

function toUser(item: Record<string, unknown>): AdminUser {
  const { pk, sk, ...user } = item;
  if (typeof user.username !== 'string' || typeof user.password_hash !== 'string') throw new Error(`malformed admin user item ${String(pk)}`);
  return user as unknown as AdminUser;
}

export class DynamoAdminUserRepository implements AdminUserRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: { tableName: string },
  ) {}

  async get(username: string): Promise<AdminUser | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: userKey(username), ConsistentRead: true }));
    return out.Item ? toUser(out.Item) : null;
  }

  /** A filtered Scan: admin users are few and listing them is rare. */
  async list(): Promise<AdminUser[]> {
    return (await scanBySortKey(this.doc, this.opts.tableName, ADMIN_SK)).map(toUser);
  }

  async create(user: AdminUser): Promise<void> {
    try {
      await this.put(user, 'attribute_not_exists(pk)');
    } catch (err) {
      if (isConditionFailed(err)) throw new StoreConflictError(`admin user "${user.username}" already exists`);
      throw err;
    }
  }

  async update(user: AdminUser): Promise<boolean> {
    try {
      await this.put(user, 'attribute_exists(pk)');
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async delete(username: string): Promise<boolean> {
    const out = await this.doc.send(new DeleteCommand({ TableName: this.opts.tableName, Key: userKey(username), ReturnValues: 'ALL_OLD' }));
    return out.Attributes !== undefined;
  }

  private async put(user: AdminUser, condition: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: { ...user, ...userKey(user.username) },
        ConditionExpression: condition,
      }),
    );
  }
}
