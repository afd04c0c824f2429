import MiniSearch from 'minisearch';

/** A tool as the search index sees it. */
export interface SearchableTool {
  /** Exposed name, `server__tool`. */
  name: string;
  server: string;
  title?: string | undefined;
  description?: string | undefined;
}

/** A compact search hit: enough to choose a tool, not its schema (describe_tool gives that). */
export interface ToolHit {
  name: string;
  server: string;
  summary: string;
  score: number;
}

const SUMMARY_CHARS = 160;

/**
 * Ranked full-text search over tool names, titles and descriptions (BM25+ via MiniSearch).
 * Names weigh most: `read_text_file` and `readTextFile` are split into words so that a query
 * "read file" finds both. Pure: built from listings, no I/O.
 */
export class ToolSearchIndex {
  private readonly index: MiniSearch<SearchableTool & { id: number; words: string }>;
  private readonly tools: SearchableTool[];

  constructor(tools: readonly SearchableTool[]) {
    this.tools = [...tools];
    this.index = new MiniSearch({
      fields: ['words', 'title', 'description', 'server'],
      storeFields: [],
      tokenize: splitWords,
      processTerm: normalizeTerm,
      searchOptions: { boost: { words: 3, title: 2, server: 1.5, description: 1 }, prefix: true, fuzzy: 0.15, combineWith: 'OR' },
    });
    this.index.addAll(this.tools.map((tool, id) => ({ ...tool, id, words: tool.name })));
  }

  get size(): number {
    return this.tools.length;
  }

  search(query: string, limit: number): ToolHit[] {
    return this.index
      .search(query)
      .slice(0, limit)
      .map((hit) => {
        const tool = this.tools[hit.id as number]!;
        return { name: tool.name, server: tool.server, summary: summarize(tool.title, tool.description), score: round(hit.score) };
      });
  }
}

/** Words of a name or text: splits on non-letters/digits and on camelCase boundaries. */
export function splitWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

const STOP_WORDS = new Set(['a', 'an', 'the', 'of', 'to', 'and', 'or', 'in', 'on', 'for', 'with', 'is', 'are', 'be', 'by', 'this', 'that', 'it', 'as', 'from', 'at', 'use']);

function normalizeTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (STOP_WORDS.has(lower)) return null;
  // A light plural stemmer: "files" and "file" should meet; "address" must stay itself.
  if (lower.length > 4 && lower.endsWith('ies')) return `${lower.slice(0, -3)}y`;
  if (lower.length > 3 && lower.endsWith('s') && !lower.endsWith('ss') && !lower.endsWith('us')) return lower.slice(0, -1);
  return lower;
}

function summarize(title: string | undefined, description: string | undefined): string {
  const text = (description ?? title ?? '').replace(/\s+/g, ' ').trim();
  const firstSentence = /^(.+?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return firstSentence.length > SUMMARY_CHARS ? `${firstSentence.slice(0, SUMMARY_CHARS - 1)}…` : firstSentence;
}

function round(score: number): number {
  return Math.round(score * 100) / 100;
}
