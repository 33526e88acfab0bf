// Every tool OCM has. The registry, `ocm tools`, MCP tools/list and the skill are all built from this.
import type { ToolDefinition } from '../tool.ts';
import { confirmationTools } from './confirmations.ts';
import { historyTools } from './history.ts';
import { nodeTools } from './nodes.ts';

export const allTools: readonly ToolDefinition[] = [...nodeTools, ...historyTools, ...confirmationTools] as ToolDefinition[];
