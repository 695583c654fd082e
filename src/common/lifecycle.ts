// The lifecycle of a long-running role (server, worker): running → draining → stopped.

export type Lifecycle =
  | { readonly state: 'running' }
  | { readonly state: 'draining'; readonly since: number }
  | { readonly state: 'stopped' };
