/**
 * Event documents as text, in the field layout of the source that records each kind: Elastic Defend
 * (`endpoint.events.*`, `endpoint.alerts`) for endpoint activity and a TLS-inspecting web proxy
 * (Zscaler ZIA as the Elastic integration maps it) for HTTP. Lines are assembled from JSON fragments that
 * are escaped once (per host, per process, per library) and reused, so the hot path is string templates,
 * never JSON.stringify of whole documents.
 */
import type { Binary, Digests, Library, Os, Signature } from "./catalog.js";

/** A JSON string literal (escaping done once per distinct value by callers that cache it). */
export const q = (text: string): string => JSON.stringify(text);

export function signatureJson(sig: Signature, os: Os): string {
  if (sig.subject === "" && !sig.signingId) {
    return os === "macos"
      ? `{"exists":false,"status":"code object is not signed at all","trusted":false}`
      : `{"exists":false,"trusted":false}`;
  }
  let out = `{"exists":true`;
  if (sig.signingId) out += `,"signing_id":${q(sig.signingId)}`;
  if (sig.status) out += `,"status":${q(sig.status)}`;
  if (sig.subject) out += `,"subject_name":${q(sig.subject)}`;
  if (sig.teamId) out += `,"team_id":${q(sig.teamId)}`;
  return `${out},"trusted":${sig.trusted}}`;
}

export function digestsJson(d: Digests): string {
  if (d.md5 !== undefined && d.sha1 !== undefined)
    return `{"md5":"${d.md5}","sha1":"${d.sha1}","sha256":"${d.sha256}"}`;
  return `{${d.md5 !== undefined ? `"md5":"${d.md5}",` : ""}${d.sha1 !== undefined ? `"sha1":"${d.sha1}",` : ""}"sha256":"${d.sha256}"}`;
}

/** The identity of one host, rendered once. */
export interface HostIdentity {
  readonly name: string;
  readonly os: Os;
  readonly ip: string;
  readonly userName: string;
  /** `"agent":{...}` */
  readonly agentJson: string;
  /** `"host":{...}` */
  readonly hostJson: string;
  /** `"user":{...}` for the interactive user and for the system account. */
  readonly userJson: string;
  readonly systemUserJson: string;
}

export interface HostIdentityInput {
  readonly name: string;
  readonly os: Os;
  readonly agentId: string;
  readonly hostId: string;
  readonly ip: string;
  readonly mac: string;
  readonly osVariant: string;
  readonly osVersion: string;
  readonly osBuild: string;
  readonly userName: string;
  readonly userId: string;
  readonly domain: string;
}

export function hostIdentity(h: HostIdentityInput): HostIdentity {
  const osJson =
    h.os === "windows"
      ? `{"Ext":{"variant":${q(h.osVariant)}},"family":"windows","full":${q(`${h.osVariant} ${h.osVersion} (${h.osBuild})`)},"kernel":${q(`${h.osVersion} (${h.osBuild})`)},"name":"Windows","platform":"windows","type":"windows","version":${q(h.osVersion)}}`
      : `{"Ext":{"variant":"Darwin"},"family":"macos","full":${q(`macOS ${h.osVersion}`)},"kernel":${q(h.osBuild)},"name":"macOS","platform":"macos","type":"macos","version":${q(h.osVersion)}}`;
  return {
    name: h.name,
    os: h.os,
    ip: h.ip,
    userName: h.userName,
    agentJson: `"agent":{"id":"${h.agentId}","type":"endpoint","version":"8.6.2"}`,
    hostJson: `"host":{"architecture":${h.os === "windows" ? `"x86_64"` : `"arm64"`},"hostname":${q(h.name.toLowerCase())},"id":"${h.hostId}","ip":["${h.ip}"],"mac":["${h.mac}"],"name":${q(h.name)},"os":${osJson}}`,
    userJson:
      h.os === "windows"
        ? `"user":{"domain":${q(h.domain)},"id":"${h.userId}","name":${q(h.userName)}}`
        : `"user":{"id":"${h.userId}","name":${q(h.userName)}}`,
    systemUserJson:
      h.os === "windows"
        ? `"user":{"domain":"NT AUTHORITY","id":"S-1-5-18","name":"SYSTEM"}`
        : `"user":{"id":"0","name":"root"}`,
  };
}

/** A running (or finished) process and its fragments, rendered once when it starts. */
export interface ProcessView {
  readonly entityId: string;
  readonly pid: number;
  readonly name: string;
  readonly executable: string;
  readonly signature: Signature;
  /** `"process":{...` with args, hashes, parent, without its closing brace: for process events. */
  readonly fullOpen: string;
  /** `"process":{...}` with identity and signature only: for library, network, file events. */
  readonly shortJson: string;
  /** `{...}` the object placed under `process.parent` of its children. */
  readonly asParentJson: string;
  readonly userJson: string;
}

export interface ProcessInput {
  readonly entityId: string;
  readonly pid: number;
  readonly binary: Binary;
  readonly executable: string;
  readonly args: readonly string[];
  readonly parent?: ProcessView;
  readonly workingDirectory: string;
  readonly userJson: string;
  /** Overrides of the binary's file facts (a trojanised or updated build of the same program). */
  readonly digests?: Digests;
  readonly signature?: Signature;
  readonly version?: string;
}

function commandLine(os: Os, args: readonly string[]): string {
  if (os === "macos") return args.join(" ");
  return args.map((a, i) => (i === 0 || a.includes(" ") ? `"${a}"` : a)).join(" ");
}

export function processView(p: ProcessInput): ProcessView {
  const b = p.binary;
  const sig = p.signature ?? b.signature;
  const sigJson = signatureJson(sig, b.os);
  const exe = q(p.executable);
  const name = q(b.name);
  const cl = commandLine(b.os, p.args);
  const argsJson = `[${p.args.map(q).join(",")}]`;
  const identity = `"code_signature":${sigJson},"entity_id":"${p.entityId}","executable":${exe},"name":${name},"pid":${p.pid}`;
  const parentJson = p.parent ? `,"parent":${p.parent.asParentJson}` : "";
  const pe =
    b.os === "windows"
      ? `,"pe":{"company":${q(b.company ?? "")},"description":${q(b.description ?? "")},"file_version":${q(p.version ?? b.version)},"original_file_name":${name},"product":${q(b.product ?? "")}}`
      : "";
  return {
    entityId: p.entityId,
    pid: p.pid,
    name: b.name,
    executable: p.executable,
    signature: sig,
    fullOpen: `"process":{"args":${argsJson},"args_count":${p.args.length},"command_line":${q(cl)},${identity},"hash":${digestsJson(p.digests ?? b.digests)}${parentJson}${pe},"working_directory":${q(p.workingDirectory)}`,
    shortJson: `"process":{${identity}}`,
    asParentJson: `{"args":${argsJson},"args_count":${p.args.length},"command_line":${q(cl)},${identity}}`,
    userJson: p.userJson,
  };
}

/** The `"dll":{...}` object of a library, rendered once per library file. */
export function dllJson(lib: Library, os: Os, digests?: Digests, sig?: Signature): string {
  return `"dll":{"code_signature":${signatureJson(sig ?? lib.signature, os)},"hash":${digestsJson(digests ?? lib.digests)},"name":${q(lib.name)},"path":${q(lib.path)}}`;
}

const DS = (dataset: string) =>
  `"data_stream":{"dataset":"${dataset}","namespace":"default","type":"logs"},"ecs":{"version":"8.6.0"}`;
const DS_PROCESS = DS("endpoint.events.process");
const DS_LIBRARY = DS("endpoint.events.library");
const DS_NETWORK = DS("endpoint.events.network");
const DS_FILE = DS("endpoint.events.file");
const DS_ALERTS = DS("endpoint.alerts");
const DS_PROXY = DS("zscaler_zia.web");

/** Renders one event given its id and its `@timestamp` text. */
export type Render = (id: string, ts: string) => string;

export function processStart(host: HostIdentity, p: ProcessView): Render {
  const action = host.os === "macos" ? "exec" : "start";
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_PROCESS},"event":{"action":"${action}","category":["process"],"dataset":"endpoint.events.process","id":"${id}","kind":"event","module":"endpoint","type":["start"]},${host.hostJson},"message":"Endpoint process event",${p.fullOpen}},${p.userJson}}`;
}

export function processEnd(host: HostIdentity, p: ProcessView, exitCode: number): Render {
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_PROCESS},"event":{"action":"end","category":["process"],"dataset":"endpoint.events.process","id":"${id}","kind":"event","module":"endpoint","type":["end"]},${host.hostJson},"message":"Endpoint process event",${p.fullOpen},"exit_code":${exitCode}},${p.userJson}}`;
}

export function libraryLoad(host: HostIdentity, p: ProcessView, dll: string): Render {
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_LIBRARY},${dll},"event":{"action":"load","category":["library"],"dataset":"endpoint.events.library","id":"${id}","kind":"event","module":"endpoint","type":["start"]},${host.hostJson},"message":"Endpoint DLL load event",${p.shortJson},${p.userJson}}`;
}

export function dnsLookup(
  host: HostIdentity,
  p: ProcessView,
  name: string,
  addresses: readonly string[],
): Render {
  const question = q(name);
  const resolved = addresses.map((a) => `"${a}"`).join(",");
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_NETWORK},"dns":{"Ext":{"options":"0x0","status":0},"question":{"name":${question},"type":"A"},"resolved_ip":[${resolved}]},"event":{"action":"lookup_result","category":["network"],"dataset":"endpoint.events.network","id":"${id}","kind":"event","module":"endpoint","type":["protocol","info"]},${host.hostJson},"message":"Endpoint DNS event","network":{"protocol":"dns"},${p.shortJson},${p.userJson}}`;
}

export function connection(
  host: HostIdentity,
  p: ProcessView,
  address: string,
  port: number,
  sourcePort: number,
): Render {
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_NETWORK},"destination":{"address":"${address}","ip":"${address}","port":${port}},"event":{"action":"connection_attempted","category":["network"],"dataset":"endpoint.events.network","id":"${id}","kind":"event","module":"endpoint","type":["start"]},${host.hostJson},"message":"Endpoint network event","network":{"direction":"egress","transport":"tcp","type":"ipv4"},${p.shortJson},"source":{"address":"${host.ip}","ip":"${host.ip}","port":${sourcePort}},${p.userJson}}`;
}

export type FileAction = "creation" | "overwrite" | "deletion" | "rename";
const FILE_TYPES: Readonly<Record<FileAction, string>> = {
  creation: "creation",
  overwrite: "change",
  deletion: "deletion",
  rename: "change",
};

export function fileEvent(
  host: HostIdentity,
  p: ProcessView,
  action: FileAction,
  path: string,
  size: number,
  digests?: Digests,
): Render {
  const sep = host.os === "windows" ? "\\" : "/";
  const name = path.slice(path.lastIndexOf(sep) + 1);
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? `"extension":${q(name.slice(dot + 1).toLowerCase())},` : "";
  const hash = digests ? `"hash":${digestsJson(digests)},` : "";
  const fileJson = `"file":{${ext}${hash}"name":${q(name)},"path":${q(path)},"size":${size}}`;
  const type = FILE_TYPES[action];
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_FILE},"event":{"action":"${action}","category":["file"],"dataset":"endpoint.events.file","id":"${id}","kind":"event","module":"endpoint","type":["${type}"]},${fileJson},${host.hostJson},"message":"Endpoint file event",${p.shortJson},${p.userJson}}`;
}

/**
 * An Elastic Defend memory-threat alert (shellcode thread), as `endpoint.alerts` documents carry it:
 * `event.kind: alert`, `event.code: shellcode_thread`, `event.type` with `allowed` (detect mode) or
 * `denied` (prevent mode).
 */
export function memoryThreatAlert(
  host: HostIdentity,
  p: ProcessView,
  prevented: boolean,
  regionSize: number,
  startBytes: string,
): Render {
  const type = prevented ? `["info","denied"]` : `["info","allowed"]`;
  return (id, ts) =>
    `{"@timestamp":"${ts}",${host.agentJson},${DS_ALERTS},"Memory_protection":{"feature":"shellcode_thread","self_injection":true,"unique_key_v1":"${startBytes.slice(0, 32)}"},"event":{"action":"start","category":["malware","intrusion_detection"],"code":"shellcode_thread","dataset":"endpoint.alerts","id":"${id}","kind":"alert","module":"endpoint","outcome":"success","risk_score":73,"severity":73,"type":${type}},${host.hostJson},"message":"Memory Threat Detection Alert: Shellcode Injection",${p.shortJson.slice(0, -1)},"Ext":{"memory_region":{"allocation_protection":"RWX","region_protection":"RWX","region_size":${regionSize}}},"thread":{"Ext":{"start_address_allocation_offset":0,"start_address_bytes":"${startBytes}"}}},"rule":{"name":"Memory Threat Detection Alert: Shellcode Injection","ruleset":"production"},${p.userJson}}`;
}

export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "CONNECT";
  readonly url: string;
  readonly userAgent: string;
  readonly status: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly destination: string;
  readonly contentType?: string;
}

/**
 * One request as a TLS-inspecting proxy logs it. `host.name` is the client device's name (the proxy
 * records it), so per-host results line up with the endpoint's own events.
 */
export function proxyRequest(host: HostIdentity, r: HttpRequest): Render {
  // URLs here are always built by the simulator as scheme://host[:port]/path[?query]; split them by hand
  // (the WHATWG parser is the slowest thing on this path).
  const schemeEnd = r.url.indexOf("://");
  const scheme = r.url.slice(0, schemeEnd);
  const rest = r.url.slice(schemeEnd + 3);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const pathAndQuery = slash < 0 ? "/" : rest.slice(slash);
  const colon = authority.indexOf(":");
  const domain = colon < 0 ? authority : authority.slice(0, colon);
  const port = colon < 0 ? (scheme === "http" ? 80 : 443) : Number(authority.slice(colon + 1));
  const qmark = pathAndQuery.indexOf("?");
  const path = qmark < 0 ? pathAndQuery : pathAndQuery.slice(0, qmark);
  const query = qmark < 0 ? "" : `,"query":${q(pathAndQuery.slice(qmark + 1))}`;
  const urlJson = `"url":{"domain":${q(domain)},"full":${q(r.url)},"original":${q(r.url)},"path":${q(path)}${query},"port":${port},"scheme":"${scheme}"}`;
  const ua = q(r.userAgent);
  const outcome = r.status < 400 ? "success" : "failure";
  const mime = r.contentType ? `,"mime_type":${q(r.contentType)}` : "";
  return (id, ts) =>
    `{"@timestamp":"${ts}",${DS_PROXY},"destination":{"ip":"${r.destination}","port":${port}},"event":{"action":"allowed","category":["web"],"dataset":"zscaler_zia.web","id":"${id}","kind":"event","module":"zscaler_zia","outcome":"${outcome}","type":["access"]},"host":{"name":${q(host.name)}},"http":{"request":{"bytes":${r.requestBytes},"method":"${r.method}"},"response":{"bytes":${r.responseBytes}${mime},"status_code":${r.status}}},"observer":{"product":"ZIA","type":"proxy","vendor":"Zscaler"},"source":{"ip":"${host.ip}"},${urlJson},"user":{"name":${q(host.userName)}},"user_agent":{"original":${ua}}}`;
}

/** `@timestamp` text with millisecond precision; the date part is cached per second. */
export class TimestampFormatter {
  private second = Number.NaN;
  private prefix = "";

  format(ms: number): string {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.second) {
      this.second = sec;
      this.prefix = new Date(sec * 1000).toISOString().slice(0, 20);
    }
    const frac = ms - sec * 1000;
    return `${this.prefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${Math.floor(frac)}Z`;
  }
}
