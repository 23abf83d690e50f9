// The three DynamoDB tables, built from the same TABLES definition the adapters and the local
// server use, so key names and TTL attributes cannot drift between code and stack.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableName } from '../../functions/adapters/dynamodb/tables';

/**
 * What deleting the stack does to each table. Tenants (keys, users, audit trail) and usage (the
 * spend ledger) are records an operator would not want to lose with a stack; state holds only
 * rate-limit windows, cached answers and breaker states, all rebuilt on their own.
 */
const REMOVAL: Record<TableName, RemovalPolicy> = {
  tenants: RemovalPolicy.RETAIN,
  usage: RemovalPolicy.RETAIN,
  state: RemovalPolicy.DESTROY,
};

export class Storage extends Construct {
  readonly tenants: Table;
  readonly state: Table;
  readonly usage: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.tenants = this.table('TenantsTable', 'tenants');
    this.state = this.table('StateTable', 'state');
    this.usage = this.table('UsageTable', 'usage');
  }

  private table(id: string, name: TableName): Table {
    const def: TableDefinition = TABLES[name];
    return new Table(this, id, {
      partitionKey: { name: def.partitionKey.name, type: AttributeType.STRING },
      sortKey: { name: def.sortKey.name, type: AttributeType.STRING },
      // On-demand: pay per request, nothing when idle, no capacity to plan for bursts.
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb): KMS encryption with key usage in CloudTrail, no key to
      // pay for or manage, and no KMS permissions needed by the functions.
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: def.ttlAttribute,
      removalPolicy: REMOVAL[name],
    });
  }
}
