// The campaign upload page: rules in plain words, a browser-side pre-check from the same
// profile, and a resumable (tus 1.0) upload with a progress bar. Chinese first.
"use strict";

const KIND_ZH = {video: "视频", image: "图片", audio: "音频"};
const T = {
  "zh-CN": {
    rules: "作品要求", choose: "选择文件", precheck: "上传前的初步检查", upload: "上传", pause: "暂停", resume: "继续",
    precheck_ok: "初步检查未发现问题。上传后会进行完整检查。", upload_anyway: "仍然上传",
    recommended: "建议", manual: "人工审核", closed: "本活动已截止，不再接受上传。", deadline: "截止时间：",
    bad_type: (ext, ok) => `文件类型 ${ext || "（无扩展名）"} 不被接受，请使用 ${ok.join("、")}。`,
    bad_kind: (kind, ok) => `本活动接受${ok.map((k) => KIND_ZH[k] || k).join("或")}，这是${KIND_ZH[kind] || kind}文件。`,
    too_big_upload: (mb) => `文件超过上传上限（${mb} 兆）。`,
    size_min: (a, b) => `文件大小 ${a} 兆，少于要求的 ${b} 兆。`, size_max: (a, b) => `文件大小 ${a} 兆，超过要求的 ${b} 兆。`,
    dur_min: (a, b) => `时长 ${a}，短于要求的 ${b}。`, dur_max: (a, b) => `时长 ${a}，长于要求的 ${b}。`,
    short_edge: (a, b) => `画面短边 ${a} 像素，低于要求的 ${b} 像素。`, long_edge: (a, b) => `画面长边 ${a} 像素，低于要求的 ${b} 像素。`,
    orientation: (a, ok) => `画面是${a}，要求${ok}。`, aspect: (a, ok) => `画面比例 ${a}，要求 ${ok}。`, landscape: "横屏", portrait: "竖屏", square: "方形",
    unreadable: "浏览器读不出该视频的时长和画面尺寸，将由服务器检查。",
    uploading: "正在上传……", retrying: (s) => `网络中断，${s} 秒后自动继续……`, checking: "上传完成，正在检查……",
    paused: "已暂停，可点击“继续”。", resumed_from: (p) => `从 ${p}% 处继续上传。`, failed: "上传失败：",
    details: "报名信息", required: "必填", naming: (p) => `文件命名：${p}（加扩展名）`, choose_one: "请选择",
  },
  en: {
    rules: "Requirements", choose: "Choose a file", precheck: "Check before uploading", upload: "Upload", pause: "Pause",
    resume: "Resume", precheck_ok: "Nothing wrong found before uploading. The full check runs after the upload.",
    upload_anyway: "Upload anyway", recommended: "recommended", manual: "checked by a person", closed: "This campaign is closed; it no longer accepts uploads.",
    deadline: "Deadline: ",
    bad_type: (ext, ok) => `Files of type ${ext || "(no extension)"} are not accepted; use ${ok.join(", ")}.`,
    bad_kind: (kind, ok) => `This campaign accepts ${ok.join(" or ")}; this is ${kind === "image" ? "a photo" : "a " + kind} file.`,
    too_big_upload: (mb) => `The file exceeds the upload limit (${mb} MiB).`,
    size_min: (a, b) => `The file is ${a} MiB, less than the required ${b} MiB.`,
    size_max: (a, b) => `The file is ${a} MiB, more than the allowed ${b} MiB.`,
    dur_min: (a, b) => `It lasts ${a}, shorter than the required ${b}.`, dur_max: (a, b) => `It lasts ${a}, longer than the allowed ${b}.`,
    short_edge: (a, b) => `The short edge is ${a} px, below the required ${b} px.`,
    long_edge: (a, b) => `The long edge is ${a} px, below the required ${b} px.`,
    orientation: (a, ok) => `The picture is ${a}; required: ${ok}.`, aspect: (a, ok) => `The aspect ratio is ${a}; required: ${ok}.`, landscape: "landscape", portrait: "portrait", square: "square",
    unreadable: "The browser cannot read this video's duration and size; the server will check them.",
    uploading: "Uploading…", retrying: (s) => `Connection lost; resuming in ${s} s…`, checking: "Uploaded; checking…",
    paused: "Paused; press Resume to go on.", resumed_from: (p) => `Resuming from ${p}%.`, failed: "Upload failed: ",
    details: "Entry details", required: "required", naming: (p) => `File name: ${p} (plus the extension)`, choose_one: "Choose",
  },
};

const params = new URLSearchParams(location.search);
const lang = params.get("lang") === "en" ? "en" : "zh-CN";
const t = T[lang];
const campaignId = decodeURIComponent(location.pathname.split("/")[2] || "");
const CHUNK = Math.max(16 * 1024, parseInt(params.get("chunk") || "", 10) || 8 * 1024 * 1024);
const RETRY_DELAYS = [1, 2, 3, 5, 8, 13];
const $ = (id) => document.getElementById(id);
let campaign = null, file = null, paused = false, xhr = null;

function mib(n) { return (n / 1048576).toFixed(1); }
function mmss(s) {
  const m = Math.floor(s / 60), r = Math.round(s % 60);
  return lang === "en" ? (m ? `${m} min ${r} s` : `${r} s`) : (m ? `${m} 分 ${r} 秒` : `${r} 秒`);
}
function say(text, cls) { const el = $("message"); el.textContent = text; el.className = cls || ""; }

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t[el.dataset.t]; });
  const other = new URLSearchParams(location.search);
  other.set("lang", lang === "en" ? "zh-CN" : "en");
  $("lang-switch").href = "?" + other.toString();
  $("lang-switch").textContent = lang === "en" ? "中文" : "English";
}

async function loadCampaign() {
  const r = await fetch(`/api/campaigns/${encodeURIComponent(campaignId)}`);
  campaign = await r.json();
  if (!r.ok) { $("title").textContent = campaign.message[lang]; $("picker").hidden = true; return; }
  $("title").textContent = campaign.title[lang];
  document.title = campaign.title[lang];
  const ul = $("rules");
  for (const rule of campaign.rules) {
    const li = document.createElement("li");
    li.className = rule.severity;
    li.dataset.rule = rule.rule;
    li.textContent = rule.text[lang];
    if (rule.severity === "recommended" || rule.severity === "manual") {
      const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = t[rule.severity]; li.append(tag);
    }
    ul.append(li);
  }
  showFields(campaign.fields || [], campaign.file_name_pattern);
  if (campaign.deadline) $("status").textContent = t.deadline + new Date(campaign.deadline).toLocaleString(lang);
  if (campaign.closed) { $("status").textContent = t.closed; $("picker").hidden = true; }
}

// ---------------------------------------------------------------- entry details (before the file)
const INPUT_TYPE = {phone: "tel", email: "email", number: "text"};

function showFields(fields, pattern) {
  if (!fields.length && !pattern) return;
  $("details-section").hidden = false;
  const form = $("details");
  for (const f of fields) {
    const row = document.createElement("p");
    const label = document.createElement("label");
    label.htmlFor = `field-${f.key}`;
    label.textContent = (f.label[lang] || f.label["zh-CN"]) + (f.required ? (lang === "en" ? ` (${t.required})` : `（${t.required}）`) : "");
    let input;
    if (f.type === "long_text") input = document.createElement("textarea");
    else if (f.type === "choice") {
      input = document.createElement("select");
      input.append(new Option(t.choose_one, ""), ...f.choices.map((c) => new Option(c, c)));
    } else {
      input = document.createElement("input");
      input.type = INPUT_TYPE[f.type] || "text";
      if (f.type === "number") input.inputMode = "decimal";
    }
    input.id = `field-${f.key}`;
    input.name = f.key;
    input.required = !!f.required;
    if (f.max_length && input.tagName !== "SELECT") input.maxLength = f.max_length;
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
    row.append(label, document.createElement("br"), input);
    if (f.help) { const h = document.createElement("small"); h.className = "note"; h.textContent = " " + (f.help[lang] || f.help["zh-CN"]); row.append(h); }
    form.append(row);
  }
  if (pattern) { $("naming").hidden = false; $("naming").textContent = t.naming(pattern); }
}

function detailsJson() {
  const out = {};
  for (const el of $("details").elements) if (el.name && el.value.trim()) out[el.name] = el.value;
  return JSON.stringify(out);
}

function markField(key) {
  const el = key && document.getElementById(`field-${key}`);
  if (el) { el.setAttribute("aria-invalid", "true"); el.focus(); }
}

function kindOf(f) {
  if (f.type.startsWith("image/")) return "image";
  if (f.type.startsWith("video/")) return "video";
  const ext = (f.name.match(/\.[^.]+$/) || [""])[0].toLowerCase();
  for (const [kind, r] of Object.entries(campaign.client_rules.kinds)) if (r.extensions.includes(ext)) return kind;
  return Object.keys(campaign.client_rules.kinds)[0];
}

function mediaSize(f, kind) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(f);
    const done = (v) => { URL.revokeObjectURL(url); resolve(v); };
    if (kind === "image") {
      const img = new Image();
      img.onload = () => done({ width: img.naturalWidth, height: img.naturalHeight });
      img.onerror = () => done(null);
      img.src = url;
      return;
    }
    const v = $("probe");
    v.onloadedmetadata = () => done({ width: v.videoWidth, height: v.videoHeight, duration: v.duration });
    v.onerror = () => done(null);
    setTimeout(() => done(null), 8000);
    v.src = url;
  });
}

async function precheck(f) {
  const problems = [];
  const kind = kindOf(f);
  const rules = campaign.client_rules.kinds[kind] || {};
  const ext = (f.name.match(/\.[^.]+$/) || [""])[0].toLowerCase();
  if (!campaign.client_rules.kinds[kind]) problems.push(["type", t.bad_kind(kind, Object.keys(campaign.client_rules.kinds))]);
  if (rules.extensions && rules.extensions.length && !rules.extensions.includes(ext)) problems.push(["type", t.bad_type(ext, rules.extensions)]);
  if (f.size > campaign.client_rules.max_upload_bytes) problems.push(["upload_limit", t.too_big_upload(mib(campaign.client_rules.max_upload_bytes))]);
  if (rules.min_bytes && f.size < rules.min_bytes) problems.push(["file_size", t.size_min(mib(f.size), mib(rules.min_bytes))]);
  if (rules.max_bytes && f.size > rules.max_bytes) problems.push(["file_size", t.size_max(mib(f.size), mib(rules.max_bytes))]);
  const m = await mediaSize(f, kind);
  if (!m || !m.width) {
    if (kind === "video") problems.push(["unreadable", t.unreadable]);
  } else {
    const short = Math.min(m.width, m.height), long = Math.max(m.width, m.height);
    const slack = rules.duration_slack_s || 0;
    if (m.duration && rules.min_duration_s && m.duration < rules.min_duration_s - slack) problems.push(["duration", t.dur_min(mmss(m.duration), mmss(rules.min_duration_s))]);
    if (m.duration && rules.max_duration_s && m.duration > rules.max_duration_s + slack) problems.push(["duration", t.dur_max(mmss(m.duration), mmss(rules.max_duration_s))]);
    if (rules.min_short_edge && short < rules.min_short_edge) problems.push(["resolution", t.short_edge(short, rules.min_short_edge)]);
    if (rules.min_long_edge && long < rules.min_long_edge) problems.push(["resolution", t.long_edge(long, rules.min_long_edge)]);
    if (rules.aspect_ratios) {
      const ratio = m.width / m.height, tol = rules.aspect_tolerance || 0.02;
      if (!rules.aspect_ratios.some((a) => Math.abs(ratio - a.value) / a.value <= tol)) {
        problems.push(["aspect_ratio", t.aspect(`${m.width}:${m.height}`, rules.aspect_ratios.map((a) => a.text).join(" / "))]);
      }
    }
    const o = m.width > m.height ? "landscape" : m.width < m.height ? "portrait" : "square";
    if (rules.orientations && !rules.orientations.includes(o)) problems.push(["orientation", t.orientation(t[o], rules.orientations.map((x) => t[x]).join(" / "))]);
  }
  return problems;
}

async function onFile() {
  file = $("file").files[0] || null;
  $("precheck").hidden = !file;
  $("upload").disabled = !file;
  if (!file) return;
  const problems = await precheck(file);
  const ul = $("problems");
  ul.replaceChildren(...problems.map(([rule, text]) => { const li = document.createElement("li"); li.dataset.rule = rule; li.textContent = text; return li; }));
  $("precheck-ok").hidden = problems.length > 0;
  $("upload").textContent = problems.length ? t.upload_anyway : t.upload;
}

// ---------------------------------------------------------------- tus 1.0 client
const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const storeKey = (f) => `mediacheck:${campaignId}:${f.name}:${f.size}:${f.lastModified}`;

function request(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Tus-Resumable", "1.0.0");
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Error("network"));
    xhr.onabort = () => reject(new Error("abort"));
    xhr.send(body === undefined ? null : body);
  });
}

function showProgress(done) {
  const p = Math.floor((done / file.size) * 100);
  $("progress").value = p;
  $("percent").textContent = `${p}%`;
}

async function problemOf(x) {
  try {
    const j = JSON.parse(x.responseText);
    if (j.field) markField(j.field);
    return j.message ? j.message[lang] : x.statusText;
  } catch { return `HTTP ${x.status}`; }
}

function finished(x) {
  // the final PATCH, or a HEAD of a complete upload (when the last answer was lost), names the submission
  const sub = x.getResponseHeader("Mediacheck-Submission"), token = x.getResponseHeader("Mediacheck-Receipt-Token");
  if (!sub || !token) return false;
  localStorage.removeItem(storeKey(file));
  say(t.checking);
  location.assign(`/s/${sub}?token=${encodeURIComponent(token)}&lang=${lang}`);
  return true;
}

async function createOrFind() {
  const saved = localStorage.getItem(storeKey(file));
  if (saved) {
    const h = await request("HEAD", saved);
    if (h.status === 200) return { url: saved, offset: parseInt(h.getResponseHeader("Upload-Offset"), 10), head: h };
    localStorage.removeItem(storeKey(file));
  }
  let meta = `filename ${b64(file.name)},filetype ${b64(file.type || "application/octet-stream")}`;
  if ((campaign.fields || []).length) meta += `,details ${b64(detailsJson())}`;
  const r = await request("POST", `/files/${encodeURIComponent(campaignId)}/`, { "Upload-Length": String(file.size), "Upload-Metadata": meta });
  if (r.status !== 201) throw new Error(await problemOf(r));
  const url = r.getResponseHeader("Location");
  localStorage.setItem(storeKey(file), url);
  return { url, offset: 0 };
}

async function upload() {
  if (!$("details-section").hidden && !$("details").reportValidity()) return;
  paused = false;
  $("upload").disabled = true; $("file").disabled = true;
  $("pause").hidden = false; $("pause").textContent = t.pause;
  $("progress").hidden = false;
  say(t.uploading);
  let attempt = 0, up = null;
  for (;;) {
    try {
      if (!up) {
        up = await createOrFind();
        if (up.head && finished(up.head)) return;
        if (up.offset > 0) say(t.resumed_from(Math.floor((up.offset / file.size) * 100)));
      } else {
        const h = await request("HEAD", up.url);
        if (h.status !== 200) throw Object.assign(new Error(await problemOf(h)), { fatal: h.status < 500 });
        if (finished(h)) return;
        up.offset = parseInt(h.getResponseHeader("Upload-Offset"), 10);
      }
      showProgress(up.offset);
      while (up.offset < file.size) {
        const end = Math.min(file.size, up.offset + CHUNK);
        const start = up.offset;
        if (end === file.size) say(t.uploading);
        const r = await request("PATCH", up.url, { "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream" },
          file.slice(start, end), (n) => showProgress(start + n));
        if (r.status !== 204) {
          if (r.status >= 500 || r.status === 409 || r.status === 423) throw new Error("retry");
          localStorage.removeItem(storeKey(file));
          throw Object.assign(new Error(await problemOf(r)), { fatal: true });
        }
        up.offset = parseInt(r.getResponseHeader("Upload-Offset"), 10);
        attempt = 0;
        showProgress(up.offset);
        if (up.offset >= file.size) {
          if (finished(r)) return;
          throw Object.assign(new Error("no receipt"), { fatal: true });
        }
      }
      throw new Error("retry");  // complete but not yet recorded: ask again
    } catch (e) {
      if (e.fatal || (!up && e.message !== "network")) { say(t.failed + e.message, "note"); $("pause").hidden = true; $("file").disabled = false; $("upload").disabled = false; return; }
      if (paused) { say(t.paused); return; }
      const delay = RETRY_DELAYS[Math.min(attempt++, RETRY_DELAYS.length - 1)];
      say(t.retrying(delay), "note");
      await new Promise((r) => setTimeout(r, delay * 1000));
      if (paused) { say(t.paused); return; }
    }
  }
}

$("pause").addEventListener("click", () => {
  if (!paused) { paused = true; if (xhr) xhr.abort(); $("pause").textContent = t.resume; }
  else { $("pause").textContent = t.pause; upload(); }
});
$("file").addEventListener("change", onFile);
$("upload").addEventListener("click", upload);
applyLanguage();
loadCampaign();
