// Every tool OCM has. The registry, `ocm tools`, MCP tools/list and the skill are all built from this.
import type { ToolDefinition } from '../tool.ts';
import { backupTools } from './backups.ts';
import { confirmationTools } from './confirmations.ts';
import { historyTools } from './history.ts';
import { nodeTools } from './nodes.ts';
import { operationTools } from './operations.ts';
import { restoreTools } from './restore.ts';
import { statusTools } from './status.ts';

export const allTools: readonly ToolDefinition[] = [
  ...nodeTools,
  ...statusTools,
  ...operationTools,
  ...backupTools,
  ...restoreTools,
  ...historyTools,
  ...confirmationTools,
] as ToolDefinition[];
