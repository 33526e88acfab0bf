// The one way views build HTML: hono's `html` tag, which escapes every interpolated value.
// Views never interpolate promises, so the result is always a plain (synchronous) escaped string.
import { html as honoHtml, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString;

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return honoHtml(strings, ...values) as Html;
}

/** For SVG from web/charts.ts only: those functions escape their own text. */
export function trustedSvg(svg: string): Html {
  return raw(svg);
}

export const nothing: Html = raw('');
