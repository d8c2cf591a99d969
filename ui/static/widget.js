/*
 * Concierge chat widget: one <script> tag on a shop's page adds a chat button that opens a chat panel. Served by
 * Concierge at /widget.js (ui/widget_script.py); documented in docs/embedding.md.
 *
 *   <script src="https://concierge.example/widget.js" data-position="bottom-right" data-color="#1d4ed8"
 *           data-title="Chat with us" data-lang="en" data-token="SIGNED SHOPPER TOKEN" async></script>
 *
 * The panel is drawn by this script, in a shadow root so the shop's styles and ours do not mix, and talks to the
 * shopper REST API only (POST /api/v1/chat streamed, GET /api/v1/sessions/{id}). Nothing of the conversation lives
 * in a server process: a visitor without a token chats as a guest, and the guest token that every reply renews
 * names the conversation (kept in the tab's sessionStorage, so it follows the visitor from page to page of the
 * shop); a signed-in shopper's conversation is named by its session id (kept the same way). Any replica behind a
 * load balancer answers any request: no sticky sessions. When the visitor signs in (a page with data-token, or
 * Concierge.setToken) the next message carries both tokens and the guest conversation becomes the shopper's.
 * The button appears only when Concierge answers this page's origin with CORS (security.allowed_origins): on any
 * other origin the API would refuse the page anyway, and the console says which setting to change.
 *
 * A guest conversation that joins carries what the guest said about their tastes (guest_preferences of the reply):
 * the panel offers it to the shopper's profile with Save and "No thanks" (POST /api/v1/guest/preferences); nothing
 * is saved without Save.
 *
 * Model text is only ever set with textContent. Page API: Concierge.open(), close(), toggle(), isOpen(),
 * setToken(token or null).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || (window.Concierge && window.Concierge.version)) {
    return; // not loaded by a <script src> tag, or loaded twice: one widget per page
  }
  var data = script.dataset;
  var base = new URL(script.src, document.baseURI).origin;

  var STRINGS = {
    en: { title: "Chat with us", close: "Close chat", clear: "New conversation", send: "Send",
      input: "Your message", log: "Conversation", sources: "Sources:", you: "You", bot: "Assistant",
      agent: "Shop team", waiting: "Waiting to send", failed: "Not sent: ", offline: "The chat cannot be " +
      "reached. Please try again.", cleared: "New conversation started.", handover: "A person from the shop " +
      "will reply here.",
      /* the same words as the chat page's (assistant/locales: ui.guest_preferences*, ui.kind.*) */
      tastes: ["While you chatted as a guest you told us: ", ". Save this to your profile, so that recommendations " +
        "and offers use it?"], save: "Save to my profile", skip: "No thanks", saved: ["Saved to your profile: ", "."],
      notSaved: "Nothing was saved to your profile.", kinds: { category: "Category", brand: "Brand", size: "Size",
        colour: "Colour", budget: "Budget", occasion: "Occasion", dislike: "Dislikes", style: "Style",
        material: "Material" } },
    zh: { title: "在线咨询", close: "关闭对话", clear: "新对话", send: "发送", input: "您的消息", log: "对话记录",
      sources: "来源：", you: "您", bot: "助手", agent: "店铺客服", waiting: "等待发送", failed: "未发送：",
      offline: "无法连接客服，请稍后再试。", cleared: "已开始新对话。", handover: "店铺的工作人员会在这里回复您。",
      tastes: ["您以访客身份聊天时告诉我们：", "。要保存到您的个人资料中，让推荐和优惠参考这些信息吗？"],
      save: "保存到我的资料", skip: "不用了", saved: ["已保存到您的资料：", "。"], notSaved: "没有保存任何内容到您的资料。",
      kinds: { category: "类别", brand: "品牌", size: "尺码", colour: "颜色", budget: "预算", occasion: "场合",
        dislike: "不喜欢", style: "风格", material: "材质" } }
  };
  var DEFAULT_COLOR = "#1d4ed8";
  var POLL_MS = 5000;

  function pickLanguage(asked) {
    var lang = String(asked || document.documentElement.lang || "en").toLowerCase().split(/[-_]/)[0];
    return STRINGS[lang] ? lang : "en";
  }

  /* A colour is taken only as #rgb or #rrggbb: it goes into a style sheet, so nothing else may pass. */
  function pickColor(asked) {
    var value = String(asked || "").trim();
    if (/^#[0-9a-f]{3}$/i.test(value)) {
      value = "#" + value.charAt(1) + value.charAt(1) + value.charAt(2) + value.charAt(2) + value.charAt(3) +
        value.charAt(3);
    }
    return /^#[0-9a-f]{6}$/i.test(value) ? value.toLowerCase() : DEFAULT_COLOR;
  }

  function luminance(hex) {
    var channels = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  /* Text on the shop's colour: white or black, whichever contrasts more. One of them always reaches 4.58:1
     (WCAG's 4.5:1 for text), whatever the colour. */
  function textColorOn(hex) {
    var l = luminance(hex);
    return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? "#ffffff" : "#000000";
  }

  var lang = pickLanguage(data.lang);
  var words = STRINGS[lang];
  var color = pickColor(data.color);
  var ink = textColorOn(color);
  var left = data.position === "bottom-left";
  var title = (data.title || "").trim() || words.title;
  var token = (data.token || "").trim() || null;

  var CSS = [
    ":host{all:initial}",
    ".cw{position:fixed;bottom:20px;" + (left ? "left" : "right") + ":20px;z-index:2147483000;",
    "font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','PingFang SC','Microsoft YaHei',sans-serif}",
    "button,textarea{font:inherit}button{cursor:pointer}",
    /* white ring inside, black ring, white ring outside: the focus shows on any page colour */
    "button:focus-visible,textarea:focus-visible,.log:focus-visible{outline:3px solid #000;outline-offset:2px;",
    "box-shadow:0 0 0 2px #fff,0 0 0 7px #fff}",
    "textarea:focus-visible,.log:focus-visible{outline-offset:-3px;box-shadow:none}",
    ".bubble{display:inline-flex;align-items:center;gap:8px;min-height:48px;min-width:48px;padding:0 18px;",
    "border:2px solid #fff;border-radius:24px;background:" + color + ";color:" + ink + ";",
    "box-shadow:0 2px 10px rgba(0,0,0,.35);font-weight:600}",
    ".bubble svg{width:22px;height:22px;flex:none;fill:currentColor}",
    ".panel{position:absolute;bottom:64px;" + (left ? "left" : "right") + ":0;display:flex;flex-direction:column;",
    "width:min(400px,calc(100vw - 40px));height:min(640px,calc(100vh - 110px));background:#fff;color:#111;",
    "border:1px solid #6b7280;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden]{display:none}",
    ".head{display:flex;align-items:center;gap:4px;padding:6px 6px 6px 14px;",
    "background:" + color + ";color:" + ink + "}",
    ".name{flex:1;font-weight:600;margin:0;font-size:16px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".head button{min-width:40px;min-height:40px;border:0;border-radius:8px;background:transparent;color:inherit}",
    ".head .close{font-size:24px;line-height:1}.head .clear{font-size:13px;text-decoration:underline}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".msg.shopper{align-self:flex-end;background:" + color + ";color:" + ink + "}",
    ".msg.assistant,.msg.agent{align-self:flex-start;background:#f3f4f6;color:#111;border:1px solid #d1d5db}",
    ".msg.note{align-self:center;background:transparent;color:#374151;font-size:13px;padding:2px 8px}",
    ".msg.failed{border:2px solid #b91c1c}",
    ".who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".state{display:block;font-size:12px;margin-top:4px}",
    ".sources{display:block;margin-top:6px;font-size:13px;color:#374151}",
    ".items{margin:6px 0 0;padding-left:18px;font-size:14px}",
    ".offer{align-self:stretch;padding:10px 12px;border:1px solid #6b7280;border-radius:12px;background:#fff;",
    "color:#111}.offer p{margin:0}.offer .actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}",
    ".offer button{min-height:44px;padding:0 14px;border:1px solid #6b7280;border-radius:8px;background:#fff;",
    "color:#111}.offer .save{background:" + color + ";color:" + ink + ";border-color:" + ink + ";font-weight:600}",
    ".offer .state{color:#b91c1c}",
    ".compose{display:flex;gap:8px;padding:10px;border-top:1px solid #6b7280;align-items:flex-end}",
    ".compose label{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "textarea{flex:1;resize:none;min-height:44px;max-height:120px;padding:10px;border:1px solid #6b7280;",
    "border-radius:8px;color:#111;background:#fff}",
    ".send{min-height:44px;padding:0 16px;border:0;border-radius:8px;background:" + color + ";color:" + ink + ";",
    "font-weight:600}",
    "@media (max-width:480px){.cw .panel{position:fixed;inset:0;width:100vw;height:100vh;border-radius:0;",
    "border:0}.cw.open .bubble{display:none}}"
  ].join("");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  var host = document.createElement("div");
  host.id = "concierge-widget";
  var root = host.attachShadow({ mode: "open" });
  var box = el("div", "cw");
  box.setAttribute("lang", lang);

  var panel = el("div", "panel");
  panel.id = "concierge-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "false");
  panel.setAttribute("aria-labelledby", "concierge-panel-name");
  var head = el("div", "head");
  var name = el("h2", "name", title);
  name.id = "concierge-panel-name";
  var clearer = el("button", "clear", words.clear);
  clearer.type = "button";
  var closer = el("button", "close");
  closer.type = "button";
  closer.setAttribute("aria-label", words.close);
  closer.appendChild(el("span", "", "\u00d7")).setAttribute("aria-hidden", "true");
  head.appendChild(name);
  head.appendChild(clearer);
  head.appendChild(closer);

  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", words.log);
  log.tabIndex = 0; // a scrolling region a keyboard can scroll

  var form = el("form", "compose");
  var inputLabel = el("label", "", words.input);
  inputLabel.setAttribute("for", "concierge-input");
  var input = el("textarea");
  input.id = "concierge-input";
  input.rows = 1;
  input.setAttribute("autocomplete", "off");
  var sendButton = el("button", "send", words.send);
  sendButton.type = "submit";
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);

  var bubble = el("button", "bubble");
  bubble.type = "button";
  bubble.setAttribute("aria-expanded", "false");
  bubble.setAttribute("aria-controls", "concierge-panel");
  bubble.innerHTML = "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\" focusable=\"false\"><path d=\"M4 4h16a2 2 0 0 1 " +
    "2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z\"/></svg>"; // a constant: no model text
  bubble.appendChild(el("span", "", title));

  box.appendChild(panel);
  box.appendChild(bubble);
  root.appendChild(el("style", "", CSS));
  root.appendChild(box);

  /* The tab's conversation lives on the server; the tab keeps only what names it. */
  var GUEST_KEY = "concierge-guest " + base;
  var SESSION_KEY = "concierge-session " + base;

  function read(key) {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(key) || "null");
      return kept && (!kept.until || kept.until > Date.now()) ? kept : null;
    } catch (e) {
      return null; // storage off (privacy settings): each page starts a new conversation
    }
  }

  function write(key, value) {
    try {
      if (value) {
        window.sessionStorage.setItem(key, JSON.stringify(value));
      } else {
        window.sessionStorage.removeItem(key);
      }
    } catch (e) {
      /* storage off: nothing kept */
    }
  }

  function keptGuest() {
    var kept = read(GUEST_KEY);
    return kept && kept.token ? kept : null;
  }

  function keepGuest(value, seconds, session) {
    write(GUEST_KEY, value ? { token: value, session: session || null,
      until: Date.now() + (Number(seconds) || 3600) * 1000 - 60000 } : null);
  }

  function keptSession() {
    var kept = read(SESSION_KEY);
    return kept && kept.session ? kept.session : null;
  }

  function api(path) {
    return new URL(path, base).toString();
  }

  /* ---- the log ---- */
  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function note(text) {
    var line = el("p", "msg note", text);
    log.appendChild(line);
    scrollDown();
    return line;
  }

  function message(from, text, after) {
    var item = el("div", "msg " + from);
    item.setAttribute("data-from", from);
    item.appendChild(el("span", "who", (from === "shopper" ? words.you : from === "agent" ? words.agent :
      words.bot) + ": "));
    var body = el("span", "text", text || "");
    item.appendChild(body);
    log.insertBefore(item, after ? after.nextSibling : null);
    scrollDown();
    return { item: item, body: body };
  }

  function setState(item, state, text) {
    item.setAttribute("data-state", state);
    var old = item.querySelector(".state");
    if (old) {
      old.parentNode.removeChild(old);
    }
    if (text) {
      item.appendChild(el("span", "state", text));
    }
  }

  /* Where a reply names its own sources, in either language (as assistant/locales words it): its source line,
     from there on ("Source: X." / "Sources: X; Y." / "来源：《X》。"), and a quote's opening ("According to “X”: ..."
     / "根据《X》：..."). */
  var OWN_SOURCES = [/(?:^|\s)Sources?: [\s\S]*$/, /来源[：:][\s\S]*$/, /(?:^|\s)According to “[\s\S]*?”\s*:/,
    /根据《[\s\S]*?》\s*[：:]/];

  function namesItsSources(text, titles) {
    var said = OWN_SOURCES.map(function (pattern) { return (String(text || "").match(pattern) || [""])[0]; })
      .join("\n");
    return titles.every(function (t) { return said.indexOf(t) >= 0; });
  }

  /* The "Sources:" line under a reply, by title, each once; none when the reply itself names every one of them
     as its source, no product the reply shows as a card and no order it names (as the chat page does). Called again
     when the reply's text or its cards change. */
  function showSources(item, sources) {
    item.conciergeSources = sources;
    var carded = item.conciergeProducts || [];
    var body = item.querySelector(".text");
    var text = String((body && body.textContent) || "");
    var titles = (sources || []).filter(function (s) {
      return s && !(s.kind === "product" && carded.indexOf(s.title) >= 0) &&
        !(s.kind === "order" && text.indexOf(s.id) >= 0); // "Your order NW-1 is ...": no "Sources: Order NW-1"
    }).map(function (s) { return s.title; })
      .filter(function (t, i, all) { return t && all.indexOf(t) === i; }); // each document once
    var old = item.querySelector(".sources");
    if (old) {
      old.parentNode.removeChild(old);
    }
    if (titles.length && !namesItsSources(text, titles)) {
      item.appendChild(el("span", "sources", words.sources + " " + titles.join("; ")));
    }
  }

  function showList(item, kind, entries) {
    var old = item.querySelector(".items." + kind);
    if (old) {
      old.parentNode.removeChild(old);
    }
    if (!entries.length) {
      return;
    }
    var list = el("ul", "items " + kind);
    entries.forEach(function (text) { list.appendChild(el("li", "", text)); });
    item.appendChild(list);
  }

  function showProducts(item, products) {
    item.conciergeProducts = (products || []).map(function (p) { return p.name; });
    showList(item, "products", (products || []).map(function (p) {
      return p.name + (p.price !== undefined ? " \u2014 " + p.price + " " + (p.currency || "") : "");
    }));
    refreshSources(item); // a product now shown as a card leaves the sources line
  }

  /* The sources line again, after the reply's text or cards changed (whether it names them may have changed). */
  function refreshSources(item) {
    if (item.conciergeSources) {
      showSources(item, item.conciergeSources);
    }
  }

  function showOffers(item, offers) {
    showList(item, "offers", (offers || []).map(function (o) { return o.title + " (" + o.code + ")"; }));
  }

  /* ---- talking to the API ---- */
  var queue = [];      // messages typed while a reply streams, sent after it in order
  var busy = false;
  var generation = 0;  // bumped by Clear and sign-out: a reply of an older conversation is dropped
  var lastTurn = null; // the newest turn id seen, for polling an agent's replies after a hand-over
  var polling = null;
  var inflight = null; // the streaming request, aborted by Clear

  function headers(guest) {
    var out = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    var bearer = token || guest;
    if (bearer) {
      out.Authorization = "Bearer " + bearer;
    }
    return out;
  }

  function problem(response) {
    return response.json().then(function (body) {
      return (body && body.detail) || ("HTTP " + response.status);
    }, function () { return "HTTP " + response.status; });
  }

  /* Read a text/event-stream body, calling handle(event, data) for each event as it comes. */
  function readEvents(response, handle) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function flush(block) {
      var event = "message";
      var lines = [];
      block.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) {
          event = line.slice(6).trim();
        } else if (line.indexOf("data:") === 0) {
          lines.push(line.slice(5).replace(/^ /, ""));
        }
      });
      if (lines.length) {
        handle(event, JSON.parse(lines.join("\n")));
      }
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (buffer.trim()) {
            flush(buffer);
          }
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split(/\r?\n\r?\n/);
        buffer = parts.pop();
        parts.forEach(flush);
        return pump();
      });
    }
    return pump();
  }

  /* One turn: stream the reply into its message. Resolves when the reply is complete (or failed). */
  function turn(job, retried) {
    var mine = generation;
    var guest = keptGuest();
    var body = { message: job.text, stream: true };
    if (token) {
      if (guest) {
        body.guest_token = guest.token; // signed in: the tab's guest conversation joins the shopper
      } else if (keptSession()) {
        body.session_id = keptSession();
      }
    }
    setState(job.mine.item, "sending");
    var reply = null;
    inflight = window.AbortController ? new window.AbortController() : null;
    return fetch(api("/api/v1/chat"), { method: "POST", mode: "cors", credentials: "omit",
      headers: headers(guest && guest.token), body: JSON.stringify(body), signal: inflight && inflight.signal })
      .then(function (response) {
        if (mine !== generation) {
          return null;
        }
        if (response.status === 401 && !token && guest && !retried) {
          keepGuest(null); // the guest token expired: a new guest conversation takes the message
          return turn(job, true);
        }
        if (response.status === 404 && token && body.session_id && !retried) {
          write(SESSION_KEY, null); // not this shopper's conversation (another account): start a new one
          return turn(job, true);
        }
        if (!response.ok) {
          return problem(response).then(function (detail) { fail(job, detail); });
        }
        setState(job.mine.item, "sent");
        reply = message("assistant", "", job.mine.item); // right after its question, before any queued one
        setState(reply.item, "streaming");
        return readEvents(response, function (event, got) {
          if (mine !== generation) {
            return;
          }
          if (event === "text") {
            reply.body.textContent += got.text || "";
            refreshSources(reply.item);
          } else if (event === "replace") {
            reply.body.textContent = got.text || "";
            reply.item.setAttribute("data-replaced", "true");
            refreshSources(reply.item);
          } else if (event === "sources") {
            showSources(reply.item, got.sources);
          } else if (event === "products") {
            showProducts(reply.item, got.products);
          } else if (event === "offers") {
            showOffers(reply.item, got.offers);
          } else if (event === "handover") {
            note(words.handover);
            startPolling();
          } else if (event === "done") {
            finish(reply, got);
          } else if (event === "error") {
            setState(reply.item, "failed", words.failed + (got.detail || ""));
            reply.item.classList.add("failed");
            restore(job);
          }
          scrollDown();
        });
      })
      .catch(function () {
        if (mine === generation) {
          if (reply) {
            setState(reply.item, "failed", words.offline);
          }
          fail(job, words.offline);
        }
      });
  }

  function finish(reply, done) {
    if (done.reply && !reply.body.textContent) {
      reply.body.textContent = done.reply;
      refreshSources(reply.item);
    }
    setState(reply.item, "done");
    if (done.turn_id) {
      reply.item.setAttribute("data-turn", done.turn_id);
      lastTurn = done.turn_id;
    }
    if (done.guest_token) {
      keepGuest(done.guest_token, done.guest_expires_in, done.session_id);
    } else if (token && done.session_id) {
      keepGuest(null); // joined (or the shopper's own): the session id names it now
      write(SESSION_KEY, { session: done.session_id });
      offerTastes(reply.item, done.session_id, done.guest_preferences);
    }
  }

  /* ---- a guest conversation that joined the shopper who signed in ---- */
  var asked = 0; // offers shown, for their ids

  function describeTastes(items) {
    return items.map(function (p) { return (words.kinds[p.kind] || p.kind) + ": " + p.value; }).join("; ");
  }

  /* What the guest said about their tastes is offered to the shopper's profile: saved only when they press Save
     (POST /api/v1/guest/preferences, save: true); "No thanks" drops it (save: false). Text only via textContent. */
  function offerTastes(after, session, items) {
    var tastes = (items || []).filter(function (p) { return p && p.kind && p.value; });
    if (!tastes.length) {
      return;
    }
    asked += 1;
    var asking = el("div", "offer");
    asking.setAttribute("role", "group");
    asking.setAttribute("data-tastes", "asked");
    var said = el("p", "", words.tastes[0] + describeTastes(tastes) + words.tastes[1]);
    said.id = "concierge-tastes-" + asked;
    asking.setAttribute("aria-labelledby", said.id);
    var actions = el("div", "actions");
    var save = el("button", "save", words.save);
    var skip = el("button", "skip", words.skip);
    save.type = skip.type = "button";
    actions.appendChild(save);
    actions.appendChild(skip);
    asking.appendChild(said);
    asking.appendChild(actions);
    log.insertBefore(asking, after.nextSibling);
    scrollDown();
    var mine = generation;
    var bearer = token;
    var deciding = false;

    function decide(keep) {
      if (deciding) {
        return;
      }
      deciding = true;
      var hadFocus = asking.contains(root.activeElement);
      setState(asking, "deciding");
      fetch(api("/api/v1/guest/preferences"), { method: "POST", mode: "cors", credentials: "omit",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + bearer },
        body: JSON.stringify({ session_id: session, save: keep }) })
        .then(function (response) {
          return response.ok ? response.json() : problem(response).then(function (detail) {
            return { failed: detail };
          });
        }, function () { return { failed: words.offline }; })
        .then(function (got) {
          deciding = false;
          if (mine !== generation || !asking.parentNode) {
            return;
          }
          if (!got || got.failed) { // nothing lost: the offer stays, to try again
            setState(asking, "failed", words.failed + ((got && got.failed) || words.offline));
            return;
          }
          var saved = (got.saved || []).filter(function (p) { return p && p.kind && p.value; });
          var answer = el("p", "msg note", saved.length ? words.saved[0] + describeTastes(saved) + words.saved[1] :
            words.notSaved);
          answer.setAttribute("data-tastes", saved.length ? "saved" : "not-saved");
          log.replaceChild(answer, asking);
          if (hadFocus) {
            input.focus();
          }
        })
        .catch(function () { // an answer that is not JSON: as if it did not come
          deciding = false;
          if (mine === generation && asking.parentNode) {
            setState(asking, "failed", words.failed + words.offline);
          }
        });
    }

    save.addEventListener("click", function () { decide(true); });
    skip.addEventListener("click", function () { decide(false); });
  }

  /* A message that was not answered: say why, and give its text back to the box when the box is empty. */
  function fail(job, detail) {
    job.mine.item.classList.add("failed");
    setState(job.mine.item, "failed", words.failed + detail);
    restore(job);
  }

  function restore(job) {
    if (!input.value) {
      input.value = job.text;
    }
  }

  function next() {
    if (busy || !queue.length) {
      return;
    }
    busy = true;
    var mine = generation;
    var job = queue.shift();
    turn(job).then(done, done);
    function done() {
      if (mine === generation) { // after Clear the new conversation's queue is not this one's
        busy = false;
        next();
      }
    }
  }

  function send(text) {
    var value = String(text || "").trim();
    if (!value) {
      return;
    }
    var mine = message("shopper", value);
    if (busy) {
      setState(mine.item, "queued", words.waiting);
    }
    queue.push({ text: value, mine: mine });
    next();
  }

  /* The conversation so far (after a page change of the shop), read from the server. */
  function history() {
    var guest = keptGuest();
    var session = token && !guest ? keptSession() : guest && guest.session;
    var bearer = token && !guest ? token : guest && guest.token;
    if (!session || !bearer) {
      return;
    }
    var mine = generation;
    fetch(api("/api/v1/sessions/" + encodeURIComponent(session)), { mode: "cors", credentials: "omit",
      headers: { Authorization: "Bearer " + bearer } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (got) {
        if (!got || mine !== generation || log.querySelector(".msg:not(.note)")) {
          return;
        }
        showTurns(got.turns || []);
      })
      .catch(function () { /* the next message starts or continues it anyway */ });
  }

  function showTurns(turns) {
    turns.forEach(function (t) {
      if (t.message) {
        setState(message("shopper", t.message).item, "sent");
      }
      if (t.reply) {
        var from = String(t.author || "").indexOf("agent:") === 0 ? "agent" : "assistant";
        var shown = message(from, t.reply);
        setState(shown.item, "done");
        showProducts(shown.item, t.products); // as the reply was shown (stored with the turn)
        showOffers(shown.item, t.offers);
        showSources(shown.item, t.sources);
        if (t.id) {
          shown.item.setAttribute("data-turn", t.id);
        }
      }
      lastTurn = t.id || lastTurn;
    });
  }

  /* After a hand-over: a person of the shop answers in the same conversation; ask for new turns while open. */
  function startPolling() {
    if (polling) {
      return;
    }
    polling = window.setInterval(function () {
      var guest = keptGuest();
      var session = guest ? guest.session : keptSession();
      var bearer = token || (guest && guest.token);
      if (!isOpen() || busy || !session || !bearer) {
        return;
      }
      var url = api("/api/v1/sessions/" + encodeURIComponent(session) + "/updates") +
        (lastTurn ? "?after=" + encodeURIComponent(lastTurn) : "");
      fetch(url, { mode: "cors", credentials: "omit", headers: { Authorization: "Bearer " + bearer } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (got) {
          if (got && !busy) {
            showTurns((got.turns || []).filter(function (t) { return !log.querySelector(
              "[data-turn=\"" + String(t.id).replace(/["\\]/g, "") + "\"]"); }));
          }
        })
        .catch(function () { /* try again at the next tick */ });
    }, POLL_MS);
  }

  /* Clear: drop what names the conversation (the server keeps it for the shop's staff) and start a new one. */
  function clear(quiet) {
    generation += 1;
    queue = [];
    busy = false;
    if (inflight) {
      inflight.abort();
      inflight = null;
    }
    lastTurn = null;
    if (polling) {
      window.clearInterval(polling);
      polling = null;
    }
    keepGuest(null);
    write(SESSION_KEY, null);
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    if (!quiet) {
      note(words.cleared);
    }
  }

  /* ---- opening and closing ---- */
  var started = false;

  function isOpen() {
    return !panel.hidden;
  }

  function open() {
    panel.hidden = false;
    box.classList.add("open");
    bubble.setAttribute("aria-expanded", "true");
    if (!started) { // the conversation is read on first open, not with every page of the shop
      started = true;
      history();
    }
    input.focus();
  }

  function close() {
    var wasOpen = isOpen();
    panel.hidden = true;
    box.classList.remove("open");
    bubble.setAttribute("aria-expanded", "false");
    if (wasOpen) {
      bubble.focus();
    }
  }

  function toggle() {
    if (isOpen()) {
      close();
    } else {
      open();
    }
  }

  /* The shopper signed in on the shop's page: the next message carries their token and the tab's guest
     conversation goes on as theirs. Signed out (null): a new conversation, as a guest. */
  function setToken(value) {
    var nextToken = (value && String(value).trim()) || null;
    if (nextToken === token) {
      return;
    }
    var signedOut = token && !nextToken;
    token = nextToken;
    if (signedOut) {
      clear(true);
    }
  }

  bubble.addEventListener("click", toggle);
  closer.addEventListener("click", close);
  clearer.addEventListener("click", function () {
    clear(false);
    input.focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault(); // Enter sends, Shift+Enter starts a new line; an IME's Enter picks characters
      send(input.value);
      input.value = "";
    }
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      event.stopPropagation();
      close();
    }
  });

  window.Concierge = {
    version: "2",
    open: open,
    close: close,
    toggle: toggle,
    setToken: setToken,
    isOpen: isOpen
  };

  function mount() {
    document.body.appendChild(host);
  }

  /* Show the button only where the chat works: Concierge answers an allowed origin (and its own) with CORS; for
     any other the browser refuses the answer, and the shop's developer is told which setting to change. */
  fetch(script.src, { method: "HEAD", mode: "cors", credentials: "omit", cache: "no-store" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      if (document.body) {
        mount();
      } else {
        document.addEventListener("DOMContentLoaded", mount);
      }
    })
    .catch(function (error) {
      if (window.console) {
        window.console.warn("Concierge widget: " + base + " does not let " + window.location.origin +
          " use its chat (" + error + "): add this origin to security.allowed_origins.");
      }
    });
})();
