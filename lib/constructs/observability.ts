// The CloudWatch dashboard and alarms. Gateway metrics come from the functions as EMF in the
// AiGateway namespace, under the same names as the local /metrics endpoint (METRIC); queue and
// function health come from the AWS/SQS and AWS/Lambda metrics the services publish themselves.
//
// What the widgets expect of the EMF side: each metric is published with one dimension set, its
// labels (tenant, provider, model, status, type, as the core records them) plus Powertools'
// `service`. Grouped views use Metrics Insights (GROUP BY a label), which does not care which
// other dimensions a series has; the rest use SEARCH over the namespace.
import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  TextWidget,
  TreatMissingData,
  type IMetric,
  type IWidget,
  type Metric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../../functions/core/metrics';

const NAMESPACE = 'AiGateway';
const PERIOD = Duration.minutes(5);
/**
 * Store errors in a minute above which the store alarm fires: a stray timeout or two is not an
 * outage, while a store that is down makes every instance probe it twice a second (each probe
 * that fails is an error), so any real outage passes this within seconds.
 */
const STORE_ERRORS_PER_MINUTE = 5;

export interface ObservabilityProps {
  chat: IFunction;
  admin: IFunction;
  usageApi: IFunction;
  aggregator: IFunction;
  usageQueue: IQueue;
  deadLetterQueue: IQueue;
  alertTopic: ITopic;
}

export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const functions: Array<[string, IFunction]> = [
      ['chat', props.chat],
      ['admin', props.admin],
      ['usage', props.usageApi],
      ['aggregator', props.aggregator],
    ];
    const urlRequests = props.chat.metric('UrlRequestCount', { statistic: 'Sum', period: PERIOD, label: 'function URL requests' });
    const url5xx = props.chat.metric('Url5xxCount', { statistic: 'Sum', period: PERIOD, label: 'function URL 5xx' });
    const url4xx = props.chat.metric('Url4xxCount', { statistic: 'Sum', period: PERIOD, label: 'function URL 4xx' });

    // ---- alarms (each notifies the alert topic) ----
    const action = new SnsAction(props.alertTopic);
    const alarm = (a: Alarm): void => {
      a.addAlarmAction(action);
      this.alarms.push(a);
    };
    alarm(
      new MathExpression({
        // Below 20 requests in 5 minutes a few failures say little; the rate counts from there.
        expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
        usingMetrics: { requests: urlRequests, errors: url5xx },
        period: PERIOD,
        label: 'chat 5xx %',
      }).createAlarm(this, 'Chat5xxRate', {
        alarmDescription:
          'More than 5% of chat requests ended with a 5xx (all providers failing, breakers open, or gateway errors) in 2 of the last 3 five-minute periods.',
        threshold: 5,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    alarm(
      props.deadLetterQueue
        .metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) })
        .createAlarm(this, 'UsageDlqNotEmpty', {
          alarmDescription: 'Usage events reached the dead-letter queue: their cost is not in the usage table until they are redriven.',
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
    );
    alarm(
      props.usageQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: PERIOD }).createAlarm(this, 'UsageQueueAge', {
        alarmDescription: 'Usage events wait more than 15 minutes: the aggregator is failing or throttled, so spend and budget alerts lag behind.',
        threshold: 15 * 60,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    alarm(
      props.aggregator.metricErrors({ statistic: 'Sum', period: PERIOD }).createAlarm(this, 'AggregatorErrors', {
        alarmDescription: 'The usage aggregator failed whole invocations (not single events, which it reports as batch item failures).',
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    alarm(
      new MathExpression({
        // Metrics Insights: one series summed over every function, store and operation (the EMF
        // series carry those as dimensions, which a plain metric alarm would have to list).
        expression: `SELECT SUM(${METRIC.storeErrors}) FROM ${NAMESPACE}`,
        usingMetrics: {},
        period: Duration.minutes(1),
        label: 'store errors',
      }).createAlarm(this, 'StoreErrors', {
        alarmDescription:
          "The gateway's own stores (DynamoDB, Redis) failed or timed out more than 5 times in a minute: requests are served degraded " +
          '(limits per instance, cache misses, last-known tenants, budgets settled later, usage buffered). /health names the store.',
        threshold: STORE_ERRORS_PER_MINUTE,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const throttles = Object.fromEntries(functions.map(([name, fn]) => [`t_${name}`, fn.metricThrottles({ statistic: 'Sum', period: PERIOD })]));
    alarm(
      new MathExpression({
        expression: Object.keys(throttles).join(' + '),
        usingMetrics: throttles,
        period: PERIOD,
        label: 'throttled invocations',
      }).createAlarm(this, 'Throttles', {
        alarmDescription: 'A gateway function was throttled (account or reserved concurrency exhausted): requests were refused or usage events delayed.',
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // ---- dashboard ----
    const search = (metricName: string, stat: string, label: string): MathExpression =>
      new MathExpression({
        expression: `SEARCH('Namespace="${NAMESPACE}" MetricName="${metricName}"', '${stat}', ${PERIOD.toSeconds()})`,
        usingMetrics: {},
        period: PERIOD,
        label,
      });
    const insights = (query: string, label: string): MathExpression => new MathExpression({ expression: query, usingMetrics: {}, period: PERIOD, label });
    const graph = (title: string, left: IMetric[], opts: { right?: IMetric[]; leftLabel?: string; stacked?: boolean } = {}): GraphWidget =>
      new GraphWidget({
        title,
        left,
        right: opts.right,
        width: 8,
        height: 6,
        stacked: opts.stacked,
        leftYAxis: { label: opts.leftLabel, min: 0, showUnits: false },
      });

    const hits = `SUM(SEARCH('Namespace="${NAMESPACE}" MetricName="${METRIC.cacheHits}"', 'Sum', ${PERIOD.toSeconds()}))`;
    const misses = `SUM(SEARCH('Namespace="${NAMESPACE}" MetricName="${METRIC.cacheMisses}"', 'Sum', ${PERIOD.toSeconds()}))`;
    const lambda = (name: string, pick: (fn: IFunction) => Metric): Metric[] =>
      functions.map(([label, fn]) => pick(fn).with({ label: `${label} ${name}`, period: PERIOD }));

    const widgets: IWidget[][] = [
      [
        new TextWidget({
          markdown:
            '## AI gateway\nGateway metrics: EMF in namespace `AiGateway` (the local `/metrics` names). ' +
            'Breaker state: 0 closed, 1 open, 2 half-open. Alarms notify the alert topic.',
          width: 24,
          height: 2,
        }),
      ],
      [
        graph('Requests', [insights(`SELECT SUM(${METRIC.requests}) FROM ${NAMESPACE} GROUP BY status`, 'requests by status')], { right: [urlRequests] }),
        graph('Errors (5xx)', [url5xx, url4xx, ...lambda('errors', (fn) => fn.metricErrors({ statistic: 'Sum' }))]),
        graph(
          'Latency p50 / p99 (seconds, per provider)',
          [
            // Dynamic labels: one line per provider and percentile.
            search(METRIC.duration, 'p50', "p50 ${PROP('Dim.provider')}"),
            search(METRIC.duration, 'p99', "p99 ${PROP('Dim.provider')}"),
          ],
          { leftLabel: 's' },
        ),
      ],
      [
        graph('Tokens', [insights(`SELECT SUM(${METRIC.tokens}) FROM ${NAMESPACE} GROUP BY type`, 'tokens')], { stacked: true }),
        graph('Cost by tenant (USD)', [insights(`SELECT SUM(${METRIC.cost}) FROM ${NAMESPACE} GROUP BY tenant ORDER BY SUM() DESC LIMIT 20`, 'cost')], {
          stacked: true,
          leftLabel: 'USD',
        }),
        graph(
          'Cache hit rate (%)',
          [new MathExpression({ expression: `100 * ${hits} / (${hits} + ${misses})`, usingMetrics: {}, period: PERIOD, label: 'hit rate %' })],
          { leftLabel: '%' },
        ),
      ],
      [
        graph('Circuit breaker state (0 closed, 1 open, 2 half-open)', [
          insights(`SELECT MAX(${METRIC.breakerState}) FROM ${NAMESPACE} GROUP BY provider`, 'state'),
        ]),
        graph('Usage queue: oldest message age (s)', [props.usageQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: PERIOD })], {
          right: [props.usageQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD, label: 'visible messages' })],
        }),
        graph('Usage DLQ depth', [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD, label: 'messages in DLQ' }),
        ]),
      ],
      [
        graph(
          'Function duration p99 (ms)',
          lambda('p99', (fn) => fn.metricDuration({ statistic: 'p99' })),
        ),
        graph(
          'Throttles and concurrency',
          lambda('throttles', (fn) => fn.metricThrottles({ statistic: 'Sum' })),
          {
            right: functions.map(([label, fn]) => fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period: PERIOD, label: `${label} concurrency` })),
          },
        ),
        new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8, height: 6 }),
      ],
      [
        new GraphWidget({
          title: 'Shared stores: errors per minute and degraded (1 = down)',
          left: [
            new MathExpression({
              expression: `SELECT SUM(${METRIC.storeErrors}) FROM ${NAMESPACE} GROUP BY store, operation`,
              usingMetrics: {},
              period: Duration.minutes(1),
              label: 'errors',
            }),
          ],
          right: [
            new MathExpression({
              expression: `SELECT MAX(${METRIC.storeDegraded}) FROM ${NAMESPACE} GROUP BY store`,
              usingMetrics: {},
              period: Duration.minutes(1),
              label: 'degraded',
            }),
          ],
          leftYAxis: { label: 'errors', min: 0, showUnits: false },
          rightYAxis: { label: 'degraded', min: 0, max: 1, showUnits: false },
          width: 12,
          height: 6,
        }),
      ],
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3), widgets });
  }
}
