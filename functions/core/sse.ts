// Splicing gateway metadata into provider JSON without re-encoding it.

/**
 * Adds `"x_gateway": {...}` to a JSON object's text without parsing and re-encoding it:
 * the provider's bytes pass through and only the metadata is serialised.
 */
export function spliceMetadata(objectJson: string, metadata: unknown): string {
  const end = objectJson.lastIndexOf('}');
  const head = objectJson.slice(0, end).trimEnd();
  const separator = head.endsWith('{') ? '' : ',';
  return `${head}${separator}"x_gateway":${JSON.stringify(metadata)}}`;
}
