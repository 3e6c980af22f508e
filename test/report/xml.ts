/**
 * A small strict XML parser for tests (elements, attributes, text; entities
 * checked): enough to prove a JUnit file is well-formed and to read it back.
 */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENT: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s: string, where: string): string {
  return s.replace(/&([^;\s]*);?/g, (m, e: string) => {
    if (!m.endsWith(';')) throw new Error(`bare & in ${where}`);
    if (e in ENT) return ENT[e];
    if (/^#\d+$/.test(e)) return String.fromCodePoint(Number(e.slice(1)));
    if (/^#x[0-9a-f]+$/i.test(e)) return String.fromCodePoint(parseInt(e.slice(2), 16));
    throw new Error(`unknown entity &${e}; in ${where}`);
  });
}

export function parseXml(src: string): XmlNode {
  let i = 0;
  const s = src.replace(/^\uFEFF/, '');
  if (s.startsWith('<?xml')) i = s.indexOf('?>') + 2;
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const text = s.slice(i, lt < 0 ? s.length : lt);
    if (text.includes('>')) throw new Error(`stray ">" at ${i}`);
    if (stack.length) stack[stack.length - 1].text += unescape(text, 'text');
    else if (text.trim()) throw new Error(`text outside the root element at ${i}`);
    if (lt < 0) break;
    if (s.startsWith('<!--', lt)) {
      i = s.indexOf('-->', lt) + 3;
      continue;
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = s.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1).trim()) throw new Error(`mismatched </${tag.slice(1)}>`);
      if (!stack.length) root = open;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.-]*)([\s\S]*)$/.exec(body);
    if (!m) throw new Error(`bad tag <${tag}>`);
    const attrs: Record<string, string> = {};
    const rest = m[2].trim();
    const re = /([A-Za-z_][\w.-]*)="([^"<]*)"\s*/y;
    let k = 0;
    while (k < rest.length) {
      re.lastIndex = k;
      const a = re.exec(rest);
      if (!a) throw new Error(`bad attributes in <${m[1]}>: ${rest.slice(k, k + 40)}`);
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]] = unescape(a[2], `attribute ${a[1]}`);
      k = re.lastIndex;
    }
    const node: XmlNode = { name: m[1], attrs, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(node);
    else if (root) throw new Error('more than one root element');
    if (selfClosing) {
      if (!stack.length) root = node;
    } else stack.push(node);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

export function findAll(n: XmlNode, name: string): XmlNode[] {
  return [...(n.name === name ? [n] : []), ...n.children.flatMap((c) => findAll(c, name))];
}
