// The optional protected edge (context edge=cloudfront): a CloudFront distribution in front of the
// chat function URL, which then requires IAM auth and answers only this distribution (origin
// access control signs every request). Nothing is cached and every method passes, so completions
// stream through as they are produced; an optional WAF web ACL (from the us-east-1 edge WAF stack)
// filters requests before they cost an invocation.
import { Duration } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HttpVersion,
  OriginRequestPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { VIEWER_AUTHORIZATION } from '../../functions/adapters/lambda/function-url';
import type { CloudFrontEdgeSettings } from '../edge-settings';
import { acknowledge } from '../nag';

/**
 * Viewer-request function (CloudFront Functions, JavaScript 2.0). Origin access control replaces
 * the client's Authorization header (the tenant key) with CloudFront's signature, so the key
 * travels to the chat function in x-viewer-authorization; a value the client sent there itself is
 * always overwritten or removed, so that header can only ever hold the client's own Authorization.
 */
export const KEEP_VIEWER_AUTHORIZATION = `function handler(event) {
  var headers = event.request.headers;
  if (headers.authorization) {
    headers['${VIEWER_AUTHORIZATION}'] = { value: headers.authorization.value };
  } else {
    delete headers['${VIEWER_AUTHORIZATION}'];
  }
  return event.request;
}
`;

export interface EdgeProps {
  /** The chat function's URL, with auth type AWS_IAM. */
  functionUrl: FunctionUrl;
  settings: CloudFrontEdgeSettings;
}

export class Edge extends Construct {
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const keepAuthorization = new EdgeFunction(this, 'KeepViewerAuthorization', {
      code: FunctionCode.fromInline(KEEP_VIEWER_AUTHORIZATION),
      runtime: FunctionRuntime.JS_2_0,
      comment: "Keeps the client's Authorization (the tenant key) in x-viewer-authorization for the chat function",
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'AI gateway edge: chat function URL behind origin access control',
      defaultBehavior: {
        // Origin access control (SigV4, always) with the two invoke permissions for this
        // distribution only: lambda:InvokeFunctionUrl and lambda:InvokeFunction via the URL.
        origin: FunctionUrlOrigin.withOriginAccessControl(props.functionUrl, {
          // The wait for a sync answer or a stream's first chunk, and between chunks.
          readTimeout: Duration.seconds(props.settings.originTimeoutSeconds),
        }),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        // Every answer is per tenant and per request: nothing is cached, and caching off also
        // turns off edge compression, which would hold SSE chunks back.
        cachePolicy: CachePolicy.CACHING_DISABLED,
        compress: false,
        // Every viewer header (the copied key, x-amz-content-sha256, traceparent, X-Provider, ...)
        // and query string, without Host: the function URL answers only to its own host name.
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        functionAssociations: [{ function: keepAuthorization, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      webAclId: props.settings.webAclArn,
    });

    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'The gateway serves API clients wherever they run; who may call it is decided by tenant keys, and an address allowlist, ' +
        'where wanted, is the edge web ACL (context edgeWaf / edgeWebAclArn), which is finer than a country list.',
    );
    if (props.settings.webAclArn === undefined) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR2',
        'AWS WAF is an option with its own monthly cost (context edgeWaf=true deploys the web ACL stack in us-east-1, ' +
          'edgeWebAclArn attaches it); without it, origin access control and the tenant keys still protect the chat function.',
      );
    }
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      'The chat function logs one access line per request in CloudWatch Logs (the client address in X-Forwarded-For); ' +
        'CloudFront standard logs would duplicate them and need an ACL-enabled S3 bucket.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      "The distribution uses CloudFront's default *.cloudfront.net certificate, whose viewer TLS policy cannot be chosen; " +
        'the API is served over HTTPS only, and a custom domain with its own certificate and TLSv1.2_2021 policy is the way to pin it.',
    );
  }

  /** https://<id>.cloudfront.net/ (the function URL's form: ending with "/"). */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }
}
