/**
 * OpenAPI v2 at `/openapi/v2`, in the encoding clients ask for: kubectl ≤ 1.27 downloads it as
 * `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (the gnostic OpenAPIv2.proto
 * message `openapi.v2.Document`, github.com/google/gnostic-models/openapiv2) for `explain`,
 * client-side `apply` (strategic merge patch metadata) and the fieldValidation support check
 * (k8s.io/cli-runtime/pkg/resource/query_param_verifier.go); other clients get JSON.
 * The document is derived from the OpenAPI v3 documents (./openapi.ts): one merged Swagger 2.0
 * document with `#/definitions/...` references, as kube-openapi builds it.
 */
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { GROUPS } from './resources.ts';
import { OPENAPI_INFO_VERSION, openApiV3Document } from './openapi.ts';
import { SCHEMAS, type Schema } from './openapi-schemas.ts';

/** Accept value of older clients (not a valid media type for Go's mime package, so never sent back). */
export const OPENAPI_V2_PROTOBUF_DEPRECATED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The media type kube-openapi answers with for either Accept value. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

// The subset of gnostic's OpenAPIv2.proto the document uses (field numbers as published).
const PROTO = `
syntax = "proto3";
package openapi.v2;
message Any { string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message Schema {
  string _ref = 1; string format = 2; string title = 3; string description = 4; Any default = 5;
  bool unique_items = 16; repeated string required = 19; repeated Any enum = 20;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  repeated Schema all_of = 24; Properties properties = 25; repeated NamedAny vendor_extension = 31;
}
message Definitions { repeated NamedSchema additional_properties = 1; }
message Info { string title = 1; string version = 2; }
message JsonReference { string _ref = 1; string description = 2; }
message BodyParameter { string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5; }
message QueryParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 6; bool unique_items = 20; }
message PathParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; bool unique_items = 19; }
message NonBodyParameter { oneof oneof { QueryParameterSubSchema query_parameter_sub_schema = 3; PathParameterSubSchema path_parameter_sub_schema = 4; } }
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message ParametersItem { oneof oneof { Parameter parameter = 1; JsonReference json_reference = 2; } }
message SchemaItem { oneof oneof { Schema schema = 1; } }
message Response { string description = 1; SchemaItem schema = 2; }
message ResponseValue { oneof oneof { Response response = 1; JsonReference json_reference = 2; } }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message Responses { repeated NamedResponseValue response_code = 1; }
message Operation {
  repeated string tags = 1; string description = 3; string operation_id = 5; repeated string produces = 6;
  repeated string consumes = 7; repeated ParametersItem parameters = 8; Responses responses = 9;
  repeated string schemes = 10; repeated NamedAny vendor_extension = 13;
}
message PathItem {
  Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5; Operation patch = 8;
  repeated ParametersItem parameters = 9;
}
message NamedPathItem { string name = 1; PathItem value = 2; }
message Paths { repeated NamedPathItem path = 2; }
message ApiKeySecurity { string type = 1; string name = 2; string in = 3; string description = 4; }
message SecurityDefinitionsItem { oneof oneof { ApiKeySecurity api_key_security = 2; } }
message NamedSecurityDefinitionsItem { string name = 1; SecurityDefinitionsItem value = 2; }
message SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1; }
message StringArray { repeated string value = 1; }
message NamedStringArray { string name = 1; StringArray value = 2; }
message SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
message Document {
  string swagger = 1; Info info = 2; Paths paths = 8; Definitions definitions = 9;
  repeated SecurityRequirement security = 12; SecurityDefinitions security_definitions = 13;
}
`;

const documentType = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('openapi.v2.Document');

type Msg = Record<string, unknown>;

const yamlAny = (v: unknown): Msg => ({ yaml: stringify(v) });
const ref2 = (r: string) => r.replace('#/components/schemas/', '#/definitions/');

/** Convert one v3 schema (as ./openapi-schemas.ts writes them) to a gnostic v2 Schema message. */
function schemaMsg(s: Schema): Msg {
  const allOf = s.allOf as Schema[] | undefined;
  if (allOf?.length === 1 && typeof allOf[0]?.$ref === 'string') {
    // kube-openapi's v2 form of a described reference: $ref with a sibling description.
    const m: Msg = { _ref: ref2(allOf[0].$ref as string) };
    if (typeof s.description === 'string') m.description = s.description;
    return withExtensions(m, s);
  }
  const m: Msg = {};
  if (typeof s.$ref === 'string') m._ref = ref2(s.$ref);
  if (typeof s.description === 'string') m.description = s.description;
  if (typeof s.format === 'string') m.format = s.format;
  if (typeof s.type === 'string') m.type = { value: [s.type] };
  if (Array.isArray(s.required)) m.required = s.required;
  if (Array.isArray(s.enum)) m.enum = (s.enum as unknown[]).map(yamlAny);
  if (s.default !== undefined) m.default = yamlAny(s.default);
  if (s.uniqueItems === true) m.unique_items = true;
  if (s.items && typeof s.items === 'object') m.items = { schema: [schemaMsg(s.items as Schema)] };
  if (s.properties && typeof s.properties === 'object') {
    m.properties = {
      additional_properties: Object.entries(s.properties as Record<string, Schema>).map(([name, v]) => ({ name, value: schemaMsg(v) })),
    };
  }
  if (s.additionalProperties !== undefined) {
    m.additional_properties = typeof s.additionalProperties === 'boolean' ? { boolean: s.additionalProperties } : { schema: schemaMsg(s.additionalProperties as Schema) };
  }
  return withExtensions(m, s);
}

function withExtensions(m: Msg, s: Schema): Msg {
  const ext = Object.entries(s)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, v]) => ({ name, value: yamlAny(v) }));
  if (ext.length) m.vendor_extension = ext;
  return m;
}

interface V3Param {
  name: string;
  in: 'query' | 'path';
  description?: string;
  required?: boolean;
  schema?: Schema;
}

function paramMsg(p: V3Param): Msg {
  const type = typeof p.schema?.type === 'string' ? p.schema.type : 'string';
  const sub: Msg = { in: p.in, name: p.name, description: p.description ?? '', type, unique_items: true };
  if (p.required) sub.required = true;
  return { parameter: { non_body_parameter: p.in === 'path' ? { path_parameter_sub_schema: sub } : { query_parameter_sub_schema: sub } } };
}

function operationMsg(op: Schema): Msg {
  const params = ((op.parameters as V3Param[] | undefined) ?? []).map(paramMsg);
  const body = op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined;
  const consumes = body?.content ? Object.keys(body.content) : [];
  const bodySchema = body?.content ? Object.values(body.content)[0]?.schema : undefined;
  if (bodySchema) params.unshift({ parameter: { body_parameter: { name: 'body', in: 'body', required: true, schema: schemaMsg(bodySchema) } } });
  const responses = Object.entries((op.responses as Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>) ?? {}).map(([code, r]) => {
    const schema = r.content ? Object.values(r.content)[0]?.schema : undefined;
    const resp: Msg = { description: r.description ?? '' };
    if (schema) resp.schema = { schema: schemaMsg(schema) };
    return { name: code, value: { response: resp } };
  });
  const m: Msg = {
    tags: op.tags ?? [],
    description: op.description ?? '',
    operation_id: op.operationId ?? '',
    produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
    schemes: ['https'],
    parameters: params,
    responses: { response_code: responses },
  };
  if (consumes.length) m.consumes = consumes.includes('*/*') ? ['*/*'] : consumes;
  return withExtensions(m, op);
}

/** The merged Swagger 2.0 document as a plain JSON object and as the gnostic protobuf. */
export function buildOpenApiV2(): { json: string; protobuf: Buffer; etag: string } {
  const paths: Record<string, Schema> = {};
  for (const g of GROUPS) for (const v of g.versions) Object.assign(paths, (openApiV3Document(g.name, v)?.paths as Record<string, Schema>) ?? {});

  const namedPaths = Object.entries(paths)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, item]) => {
      const value: Msg = { parameters: ((item.parameters as V3Param[] | undefined) ?? []).map(paramMsg) };
      for (const method of ['get', 'put', 'post', 'delete', 'patch']) if (item[method]) value[method] = operationMsg(item[method] as Schema);
      return { name, value };
    });
  const definitions = Object.keys(SCHEMAS)
    .sort()
    .map((name) => ({ name, value: schemaMsg(SCHEMAS[name] as Schema) }));
  const doc: Msg = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: OPENAPI_INFO_VERSION },
    paths: { path: namedPaths },
    definitions: { additional_properties: definitions },
    security_definitions: {
      additional_properties: [{ name: 'BearerToken', value: { api_key_security: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } } }],
    },
    security: [{ additional_properties: [{ name: 'BearerToken', value: { value: [] } }] }],
  };
  const pb = Buffer.from(documentType.encode(documentType.fromObject(doc)).finish());

  // JSON form: the same content with v2 references.
  const jsonDoc = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: OPENAPI_INFO_VERSION },
    paths,
    definitions: SCHEMAS,
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } },
    security: [{ BearerToken: [] }],
  };
  const json = JSON.stringify(jsonDoc).replace(/#\/components\/schemas\//g, '#/definitions/');
  return { json, protobuf: pb, etag: createHash('sha512').update(pb).digest('hex').toUpperCase() };
}
