// Secrets Manager: the provider API keys (one JSON secret the operator fills in after deploy) and
// the first admin's generated credential.
import { SecretValue } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** The keys of the provider secret's JSON document; the chat function reads these names. */
const PROVIDER_SECRET_KEYS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'] as const;

export class Secrets extends Construct {
  readonly providerKeys: Secret;
  readonly admin: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // Created with empty values: the keys never pass through the template, the CDK app or the
    // deploying shell. CloudFormation writes this value only when the secret is created (or when
    // this template value changes), so keys put in with put-secret-value survive later deploys.
    this.providerKeys = new Secret(this, 'ProviderKeys', {
      description: 'AI gateway provider API keys, JSON {"OPENAI_API_KEY": "...", "ANTHROPIC_API_KEY": "..."}; empty values leave a provider unconfigured',
      secretObjectValue: Object.fromEntries(PROVIDER_SECRET_KEYS.map((k) => [k, SecretValue.unsafePlainText('')])),
    });
    acknowledge(
      this.providerKeys,
      'AwsSolutions-SMG4',
      'Provider API keys are issued by OpenAI and Anthropic in their consoles; Secrets Manager cannot rotate them. ' +
        'The operator replaces them with put-secret-value, and the chat function re-reads the secret on its refresh interval.',
    );

    this.admin = new Secret(this, 'AdminCredential', {
      description: 'AI gateway first admin user (Basic auth for /admin/*), generated at deploy',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'admin' }),
        generateStringKey: 'password',
        passwordLength: 32,
        // Sent in a Basic auth header: quotes, backslashes and the like only cause shell and
        // header quoting trouble, and 32 alphanumerics are plenty.
        excludePunctuation: true,
      },
    });
    acknowledge(
      this.admin,
      'AwsSolutions-SMG4',
      'Read once, to create the first admin when no admin user exists; rotating it would change no login. ' +
        'Admin passwords are then changed through the admin API, which stores only scrypt hashes.',
    );
  }
}
