// The operator's console (call_console.html): each button or form sends one
// step to the server over the call's socket (call.js) and shows its answer.
(function () {
  "use strict";
  var root = document.getElementById("call");
  if (!root || root.dataset.role !== "operator") { return; }
  var messageEl = document.getElementById("console-message");
  var releaseButton = document.getElementById("release-button");
  var codes = document.getElementById("codes");
  var BAND_CLASS = { "corrisponde": "ok", "dubbio": "warn", "non corrisponde": "bad" };

  function show(id, text, kind) {
    var el = document.getElementById(id);
    el.textContent = text;
    el.className = "step-result" + (kind ? " step-" + kind : "");
  }
  function note(text) { messageEl.textContent = text || ""; }
  function step(message) {
    note("");
    if (!window.sportelloCall.send(message)) { note("Collegamento non pronto: attendi o ricarica la pagina."); }
  }
  function clearCodes() {
    document.getElementById("pin-digits").textContent = "";
    document.getElementById("puk-digits").textContent = "";
    codes.hidden = true;
  }

  document.querySelectorAll("[data-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (button.dataset.step === "capture") { show("face-result", "confronto in corso…"); }
      if (button.dataset.step === "challenge") { show("liveness-result", "prova in corso…"); }
      step({ type: button.dataset.step });
    });
  });
  document.getElementById("code-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = document.getElementById("code-input");
    step({ type: "check_code", code: input.value });
    input.value = "";
  });
  document.getElementById("decide-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var chosen = form.querySelector("input[name=decision]:checked");
    if (!chosen) { note("Scegli una decisione."); return; }
    step({ type: "decide", decision: chosen.value, reason: form.reason.value,
           supervisor: form.supervisor.value, supervisor_password: form.supervisor_password.value });
    form.supervisor_password.value = "";
  });

  document.addEventListener("call-message", function (ev) {
    var m = ev.detail;
    if (m.type === "presence") {
      document.getElementById("call-status").textContent = m.citizen
        ? (m.citizen_video ? "Il cittadino è collegato e il suo video arriva." : "Il cittadino ha aperto la pagina: attendi il video.")
        : "Il cittadino non è ancora collegato.";
    } else if (m.type === "face") {
      if (m.band) { show("face-result", m.band, BAND_CLASS[m.band]); }
      else { show("face-result", "da ripetere: " + m.text, "warn"); }
    } else if (m.type === "challenge") {
      show("liveness-result", "in corso: " + m.text);
    } else if (m.type === "liveness") {
      show("liveness-result", (m.passed ? "superata" : "non superata") + " (" + m.text + ")" +
           (m.passed || !m.left ? "" : "; puoi ripeterla con una nuova richiesta (" + m.left + " rimaste)"), m.passed ? "ok" : "bad");
    } else if (m.type === "code_sent") {
      show("code-result", "inviato a " + m.channel);
    } else if (m.type === "code_checked") {
      show("code-result", m.ok ? "corretto" : "errato, tentativi rimasti: " + m.left, m.ok ? "ok" : "bad");
    } else if (m.type === "decided") {
      note((m.text ? m.text + " " : "") + "Esito registrato: " + ({ identified: "identificato", needs_review: "da revisionare", rejected: "respinto" }[m.status] || m.status) + ".");
      releaseButton.disabled = m.status !== "identified";
    } else if (m.type === "released") {
      document.getElementById("pin-digits").textContent = m.pin;
      document.getElementById("puk-digits").textContent = m.puk;
      document.getElementById("codes-channel").textContent = "Le altre cifre sono state inviate a " + m.channel + ".";
      codes.hidden = false;
      releaseButton.disabled = true;
    } else if (m.type === "clear") {
      clearCodes();
    } else if (m.type === "ended") {
      clearCodes();
      note("Videochiamata terminata.");
    } else if (m.type === "replaced") {
      note("La console è stata aperta in un'altra finestra.");
    } else if (m.type === "error") {
      note(m.text.charAt(0).toUpperCase() + m.text.slice(1) + ".");
    }
  });
  window.addEventListener("pagehide", clearCodes);
})();
