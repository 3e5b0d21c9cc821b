// The one client of the file API (common/src/protocol.ts describes it): the
// editor, the dashboard's files:* and editor:* actions, the tests and the bench
// all call the server through this. Runs in the browser and in Node 20 (fetch).
import {
  FILES_API_PATH,
  FILES_HEADER,
  type FileApiFailure,
  type FileFailureCode,
  type FileText,
  type FileVersion,
  type FolderListing,
} from '../../common/src/protocol.js';

/** A refusal or failure of the file API, with its status and code (and the file as it is now, for 409s). */
export class FileApiError extends Error {
  override name = 'FileApiError';
  constructor(
    readonly status: number,
    readonly code: FileFailureCode,
    message: string,
    readonly current?: FileVersion,
  ) {
    super(message);
  }
}

export interface FileClientOptions {
  /** The terminal's URL prefix ('' or '/user/alice'), or a whole origin and prefix in Node. */
  prefix: string;
  /** Headers every request carries (Node: a cookie or an Authorization). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export class FileClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;

  constructor(options: FileClientOptions) {
    this.base = `${options.prefix}/${FILES_API_PATH}`;
    this.headers = options.headers ?? {};
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  list(path: string, options: { hidden?: boolean } = {}): Promise<FolderListing> {
    return this.call('GET', 'list', { path, hidden: options.hidden ? '1' : undefined });
  }

  read(path: string): Promise<FileText> {
    return this.call('GET', 'read', { path });
  }

  /** The file's current version, or null when there is no file there. */
  async stat(path: string): Promise<FileVersion | null> {
    try {
      return await this.call<FileVersion>('GET', 'stat', { path });
    } catch (error) {
      if (error instanceof FileApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** Writes the text: over `version` only while the file is still that version; `'new'` only when there is no file. */
  write(path: string, text: string, version: string | 'new'): Promise<FileVersion> {
    return this.call('PUT', 'write', { path, version }, text);
  }

  create(path: string, type: 'file' | 'folder'): Promise<FileVersion> {
    return this.call('POST', 'create', { path, type });
  }

  copy(path: string, to: string, options: { replace?: string } = {}): Promise<FileVersion> {
    return this.call('POST', 'copy', { path, to, replace: options.replace });
  }

  rename(path: string, to: string, options: { replace?: string } = {}): Promise<FileVersion> {
    return this.call('POST', 'rename', { path, to, replace: options.replace });
  }

  async remove(path: string, options: { version?: string; recursive?: boolean } = {}): Promise<void> {
    await this.call('DELETE', 'delete', {
      path,
      version: options.version,
      recursive: options.recursive ? '1' : undefined,
    });
  }

  private async call<T>(
    method: string,
    operation: string,
    query: Record<string, string | undefined>,
    body?: string,
  ): Promise<T> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, value);
    const headers: Record<string, string> = { ...this.headers, Accept: 'application/json' };
    if (method !== 'GET') headers[FILES_HEADER] = '1';
    if (body !== undefined) headers['Content-Type'] = 'application/octet-stream';
    const response = await this.fetch(`${this.base}/${operation}?${search}`, {
      method,
      headers,
      body: body === undefined ? undefined : new TextEncoder().encode(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (response.status === 204) return undefined as T;
    let answer: unknown;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok) {
      const failure = (answer ?? {}) as Partial<FileApiFailure>;
      throw new FileApiError(
        response.status,
        failure.code ?? 'failed',
        typeof failure.error === 'string' ? failure.error : `the server answered ${response.status}`,
        failure.current,
      );
    }
    return answer as T;
  }
}
