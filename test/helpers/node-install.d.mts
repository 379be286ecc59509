// Types of node-install.mjs (plain JavaScript, shared with the benches).

export declare const NODE_VERSIONS: { readonly 18: '18.20.8'; readonly 20: '20.20.2'; readonly 22: '22.23.3'; readonly 24: '24.21.0'; readonly 26: '26.12.1' };
export declare function installNode(version: string): Promise<string>;
