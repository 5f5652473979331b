// A local `$ref` of the bundled contract followed to what it points at (chains included).
type Json = Record<string, unknown>;

export function resolveRef(document: Json, node: Json): Json {
  let current = node;
  for (let depth = 0; current && typeof current.$ref === 'string' && depth < 10; depth++) {
    current = current.$ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<Json>((value, key) => (value?.[key] ?? {}) as Json, document);
  }
  return current ?? {};
}
