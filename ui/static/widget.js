/*
 * Concierge chat widget: one <script> tag on a shop's page adds a chat button that opens the shopper chat in a
 * panel. Served by Concierge at /widget.js (ui/widget_script.py); documented in docs/embedding.md.
 *
 *   <script src="https://concierge.example/widget.js" data-position="bottom-right" data-color="#1d4ed8"
 *           data-title="Chat with us" data-lang="en" data-token="SIGNED SHOPPER TOKEN" async></script>
 *
 * The chat runs in an iframe on Concierge's own origin (its page, its session, its token check); this script
 * only draws the button and the panel, in a shadow root so the shop's styles and ours do not mix. A visitor without
 * a token chats as a guest: the script opens the guest conversation (POST /api/v1/guest) and keeps its guest token
 * in the tab's sessionStorage, so the conversation follows the visitor from page to page of the shop and joins
 * their account when the shop calls Concierge.setToken after they sign in. The button
 * appears only when Concierge answers this page's origin with CORS (security.allowed_origins): a page that may
 * not frame the chat gets a console message instead of a button that opens an empty panel.
 *
 * Page API: Concierge.open(), Concierge.close(), Concierge.toggle(), Concierge.setToken(token or null).
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
    en: { title: "Chat with us", close: "Close chat", frame: "Chat with the shop's assistant" },
    zh: { title: "在线咨询", close: "关闭对话", frame: "与店铺助手对话" }
  };
  var DEFAULT_COLOR = "#1d4ed8";

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
    "button{font:inherit;cursor:pointer}",
    /* white ring inside, black ring, white ring outside: the focus shows on any page colour */
    "button:focus-visible{outline:3px solid #000;outline-offset:2px;box-shadow:0 0 0 2px #fff,0 0 0 7px #fff}",
    ".bubble{display:inline-flex;align-items:center;gap:8px;min-height:48px;min-width:48px;padding:0 18px;",
    "border:2px solid #fff;border-radius:24px;background:" + color + ";color:" + ink + ";",
    "box-shadow:0 2px 10px rgba(0,0,0,.35);font-weight:600}",
    ".bubble svg{width:22px;height:22px;flex:none;fill:currentColor}",
    ".panel{position:absolute;bottom:64px;" + (left ? "left" : "right") + ":0;display:flex;flex-direction:column;",
    "width:min(400px,calc(100vw - 40px));height:min(640px,calc(100vh - 110px));background:#fff;color:#111;",
    "border:1px solid #6b7280;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden]{display:none}",
    ".head{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:6px 6px 6px 14px;",
    "background:" + color + ";color:" + ink + "}",
    ".name{font-weight:600;margin:0;font-size:16px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".close{min-width:40px;min-height:40px;border:0;border-radius:8px;background:transparent;color:inherit;",
    "font-size:24px;line-height:1}",
    "iframe{flex:1;width:100%;border:0;background:#fff}",
    "@media (max-width:480px){.cw .panel{position:fixed;inset:0;width:100vw;height:100vh;border-radius:0;",
    "border:0}.cw.open .bubble{display:none}}"
  ].join("");

  var host = document.createElement("div");
  host.id = "concierge-widget";
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = CSS;
  var box = document.createElement("div");
  box.className = "cw";
  box.setAttribute("lang", lang);

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "concierge-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "concierge-panel-name");
  var head = document.createElement("div");
  head.className = "head";
  var name = document.createElement("h2");
  name.className = "name";
  name.id = "concierge-panel-name";
  name.textContent = title;
  var closer = document.createElement("button");
  closer.type = "button";
  closer.className = "close";
  closer.setAttribute("aria-label", words.close);
  closer.innerHTML = "<span aria-hidden=\"true\">\u00d7</span>";
  head.appendChild(name);
  head.appendChild(closer);
  panel.appendChild(head);

  var bubble = document.createElement("button");
  bubble.type = "button";
  bubble.className = "bubble";
  bubble.setAttribute("aria-expanded", "false");
  bubble.setAttribute("aria-controls", "concierge-panel");
  bubble.innerHTML = "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\" focusable=\"false\"><path d=\"M4 4h16a2 2 0 0 1 " +
    "2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z\"/></svg>";
  var label = document.createElement("span");
  label.textContent = title;
  bubble.appendChild(label);

  box.appendChild(panel);
  box.appendChild(bubble);
  root.appendChild(style);
  root.appendChild(box);

  var frame = null;
  var GUEST_KEY = "concierge-guest " + base;

  /* The guest conversation of this tab (its guest token), while it is valid; null when there is none. */
  function keptGuest() {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(GUEST_KEY) || "null");
      return kept && kept.token && kept.until > Date.now() ? kept.token : null;
    } catch (e) {
      return null; // storage off (privacy settings): each page starts a new conversation
    }
  }

  function keepGuest(value, seconds) {
    try {
      if (value) {
        window.sessionStorage.setItem(GUEST_KEY, JSON.stringify({ token: value, until: Date.now() + seconds * 1000 -
          60000 }));
      } else {
        window.sessionStorage.removeItem(GUEST_KEY);
      }
    } catch (e) {
      /* storage off: nothing kept */
    }
  }

  /* The tab's guest conversation, opened when it has none. Without one (guest chat off, limits) the chat page
     opens its own. */
  function guestToken() {
    var kept = keptGuest();
    if (kept) {
      return Promise.resolve(kept);
    }
    return fetch(new URL("/api/v1/guest", base).toString(), { method: "POST", mode: "cors", credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.guest_token) {
          keepGuest(body.guest_token, Number(body.expires_in) || 3600);
          return body.guest_token;
        }
        return null;
      })
      .catch(function () { return null; });
  }

  /* The chat page's address: embedded mode, the language, the shopper's token when one is set, and the guest
     conversation to go on with (with a shopper's token too: it joins them). */
  function chatUrl(guest) {
    var url = new URL("/", base);
    url.searchParams.set("embed", "1");
    url.searchParams.set("lang", lang);
    if (guest) {
      url.searchParams.set("guest", guest);
    }
    if (token) {
      url.searchParams.set("token", token);
    }
    return url.toString();
  }

  /* Load the chat: as the shopper (a guest conversation of this tab joins them), or as the tab's guest. */
  function load() {
    var guest = keptGuest();
    if (token) {
      keepGuest(null); // joined: the conversation is the shopper's now, the guest token no longer opens it
      frame.src = chatUrl(guest);
      return;
    }
    guestToken().then(function (value) {
      if (!token) {
        frame.src = chatUrl(value);
      }
    });
  }

  function isOpen() {
    return !panel.hidden;
  }

  function open() {
    if (!frame) { // the chat loads on first open, not with every page of the shop
      frame = document.createElement("iframe");
      frame.title = words.frame;
      frame.setAttribute("allow", "clipboard-write");
      panel.appendChild(frame);
      load();
    }
    panel.hidden = false;
    box.classList.add("open");
    bubble.setAttribute("aria-expanded", "true");
    frame.focus();
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

  /* The shopper signed in on the shop's page: the chat reloads as them, and the guest conversation of this tab
     goes on as theirs. Signed out (null): the chat reloads as a guest, in a new conversation. */
  function setToken(value) {
    var next = (value && String(value).trim()) || null;
    if (next === token) {
      return;
    }
    token = next;
    if (frame) {
      load();
    }
  }

  bubble.addEventListener("click", toggle);
  closer.addEventListener("click", close);
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      event.stopPropagation();
      close();
    }
  });

  window.Concierge = {
    version: "1",
    open: open,
    close: close,
    toggle: toggle,
    setToken: setToken,
    isOpen: isOpen
  };

  function mount() {
    document.body.appendChild(host);
  }

  /* Show the button only where the chat may open: Concierge answers an allowed origin (and its own) with CORS;
     for any other the browser refuses the answer, and the shop's developer is told which setting to change. */
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
          " open its chat (" + error + "): add this origin to security.allowed_origins.");
      }
    });
})();
