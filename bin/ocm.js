#!/usr/bin/env node
// Entry point for the `ocm` command: loads the TypeScript sources through tsx so a clean
// clone works right after `npm ci`, with no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../mcp-server/cli.ts');
