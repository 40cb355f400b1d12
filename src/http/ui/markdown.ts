/**
 * Memory rendered as Markdown. Blocks are written by agents and by anyone holding a key, so their
 * text is untrusted: markdown-it (CommonMark, maintained, no dependencies on a DOM) runs with
 * `html: false`, which escapes every raw HTML tag instead of passing it through — simpler to
 * trust than a sanitiser after the fact, and memory needs no HTML. Its link validator already
 * refuses `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs (such a link stays
 * text). Images become links, so that a page never loads anything from elsewhere.
 */
import MarkdownIt from "markdown-it";

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

markdown.renderer.rules.image = (tokens, index, options, _env, self) => {
  const token = tokens[index];
  const label = self.renderInlineAsText(token.children ?? [], options, {});
  return `<a href="${markdown.utils.escapeHtml(String(token.attrGet("src") ?? ""))}" class="image-link" rel="noopener noreferrer nofollow">${markdown.utils.escapeHtml(`image: ${label || "untitled"}`)}</a>`;
};

const renderLinkOpen = markdown.renderer.renderToken.bind(markdown.renderer);
markdown.renderer.rules.link_open = (tokens, index, options) => {
  tokens[index].attrSet("rel", "noopener noreferrer nofollow");
  return renderLinkOpen(tokens, index, options);
};

/** The HTML of a Markdown text: safe to place in a page as is. */
export function renderMarkdown(text: string): string {
  return markdown.render(text);
}
