export { HubClient, HubError, resolveUrl } from './client.ts';
export { RepoCache, hubCacheDir, normalizeEtag, repoFolderName } from './cache.ts';
export { chooseFiles, hubToken, pullModel, shardsOf } from './pull.ts';
export type { PullOptions, PullResult } from './pull.ts';
