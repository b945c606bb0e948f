import type { AuthRequest, ResponseHeaders } from '../model';

/** A request to a framework-free endpoint (token endpoint, JWKS, metrics): the request plus its raw body. */
export interface EndpointRequest extends AuthRequest {
  /** The raw body (form or JSON), when the method has one. */
  readonly body?: Buffer | string;
}

/** What an endpoint answers; the adapter writes it as is. */
export interface EndpointResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: string | Buffer;
}

/**
 * An HTTP endpoint that lives in the core (the OAuth token endpoint, the JWKS, `/metrics`). Every adapter mounts any
 * endpoint through one generic helper, so no endpoint logic lives in an adapter.
 */
export type Endpoint = (request: EndpointRequest) => Promise<EndpointResponse>;

/** Largest body an endpoint reads (bytes). */
export const MAX_ENDPOINT_BODY = 64 * 1024;
