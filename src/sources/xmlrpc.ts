// Minimal XML-RPC (the subset supervisord speaks): encode a call, decode a response.
// Pure functions, unit-tested; transport lives in supervisor.ts.
import { XMLParser } from 'fast-xml-parser';

export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [k: string]: XmlRpcValue };

export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = 'XmlRpcFault';
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function encodeValue(v: XmlRpcValue): string {
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  }
  if (v === null) return '<value><nil/></value>';
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(v)
    .map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeValue(x)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

export function encodeCall(method: string, params: readonly XmlRpcValue[] = []): string {
  const ps = params.map((p) => `<param>${encodeValue(p)}</param>`).join('');
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${ps}</params></methodCall>`;
}

// preserveOrder keeps every element as [{tag: children}], which makes XML-RPC's mixed
// typed/untyped <value> forms unambiguous. Entities are decoded, text is never trimmed
// (a program's description may carry meaningful spaces) and numbers are not guessed.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  trimValues: false,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: false,
});

type Node = Record<string, unknown>;

function tagOf(n: Node): string | undefined {
  return Object.keys(n).find((k) => k !== ':@');
}

function children(n: Node): Node[] {
  const t = tagOf(n);
  const c = t ? n[t] : undefined;
  return Array.isArray(c) ? (c as Node[]) : [];
}

function elements(nodes: Node[]): Node[] {
  return nodes.filter((n) => tagOf(n) !== '#text');
}

function text(nodes: Node[]): string {
  return nodes.map((n) => (typeof n['#text'] === 'string' ? n['#text'] : String(n['#text'] ?? ''))).join('');
}

function child(n: Node, tag: string): Node | undefined {
  return children(n).find((c) => tagOf(c) === tag);
}

function decodeValue(valueNode: Node): XmlRpcValue {
  const kids = children(valueNode);
  const typed = elements(kids)[0];
  if (!typed) return text(kids); // <value>text</value> is a string
  const tag = tagOf(typed) as string;
  const inner = children(typed);
  switch (tag) {
    case 'string':
      return text(inner);
    case 'int':
    case 'i4':
    case 'i8': {
      const n = Number(text(inner).trim());
      if (!Number.isInteger(n)) throw new Error(`bad <${tag}> value`);
      return n;
    }
    case 'double': {
      const n = Number(text(inner).trim());
      if (Number.isNaN(n)) throw new Error('bad <double> value');
      return n;
    }
    case 'boolean':
      return text(inner).trim() === '1';
    case 'nil':
      return null;
    case 'dateTime.iso8601':
    case 'base64':
      return text(inner).trim();
    case 'array': {
      const data = child(typed, 'data');
      return data ? elements(children(data)).filter((c) => tagOf(c) === 'value').map(decodeValue) : [];
    }
    case 'struct': {
      const out: Record<string, XmlRpcValue> = {};
      for (const m of elements(inner)) {
        if (tagOf(m) !== 'member') continue;
        const nameNode = child(m, 'name');
        const valueNode = child(m, 'value');
        if (!nameNode || !valueNode) throw new Error('struct member without name or value');
        out[text(children(nameNode))] = decodeValue(valueNode);
      }
      return out;
    }
    default:
      throw new Error(`unsupported XML-RPC type <${tag}>`);
  }
}

/** Decodes a methodResponse; throws XmlRpcFault for a <fault>, Error for malformed XML. */
export function decodeResponse(xml: string): XmlRpcValue {
  let doc: Node[];
  try {
    doc = parser.parse(xml) as Node[];
  } catch (err) {
    throw new Error(`malformed XML-RPC response: ${(err as Error).message.split('\n')[0]}`);
  }
  const resp = doc.find((n) => tagOf(n) === 'methodResponse');
  if (!resp) throw new Error('malformed XML-RPC response: no <methodResponse>');
  const fault = child(resp, 'fault');
  if (fault) {
    const v = child(fault, 'value');
    const f = v ? decodeValue(v) : {};
    const s = (f && typeof f === 'object' && !Array.isArray(f) ? f : {}) as Record<string, XmlRpcValue>;
    throw new XmlRpcFault(Number(s.faultCode ?? 0), String(s.faultString ?? 'unknown fault'));
  }
  const param = child(resp, 'params') && child(child(resp, 'params') as Node, 'param');
  const value = param && child(param, 'value');
  if (!value) throw new Error('malformed XML-RPC response: no <param><value>');
  return decodeValue(value);
}
