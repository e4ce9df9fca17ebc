/**
 * The one GraphQL POST, for the web app, the scripts, the tests, the benchmarks and the chaos
 * harness: `postGraphQL` answers the status and the body as they came; `graphql` the data or
 * a GraphQLRequestError.
 */
import { JengaError } from "./errors";

export type GraphQLResponse<T> = { data?: T; errors?: { message: string }[]; status: number };

export type GraphQLRequestParameters = {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:42069/graphql. */
  url: string;
  query: string;
  variables?: Record<string, unknown>;
};

/** An answer with an HTTP error, GraphQL errors or no data. */
export class GraphQLRequestError extends JengaError {
  override name = "GraphQLRequestError";
  readonly status: number;
  readonly errors: { message: string }[] | undefined;

  constructor(params: { status: number; errors: { message: string }[] | undefined }) {
    super(`GraphQL ${params.status}: ${params.errors?.map((e) => e.message).join("; ") ?? "no data"}`);
    this.status = params.status;
    this.errors = params.errors;
  }
}

/** POSTs a GraphQL request and returns the HTTP status with the parsed JSON body. */
export async function postGraphQL<T>(params: GraphQLRequestParameters): Promise<GraphQLResponse<T>> {
  const response = await fetch(params.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: params.query, variables: params.variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
  return { ...body, status: response.status };
}

/** POSTs a GraphQL request and returns its data; throws GraphQLRequestError on an HTTP error,
 * GraphQL errors or no data. */
export async function graphql<T>(params: GraphQLRequestParameters): Promise<T> {
  const { data, errors, status } = await postGraphQL<T>(params);
  if (status < 200 || status > 299 || errors?.length || !data) throw new GraphQLRequestError({ status, errors });
  return data;
}
