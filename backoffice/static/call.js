// One end of the identification call: a WebRTC peer connection with the server
// (calls/media.py) and a websocket for signalling and the call's messages.
// The page's #call element says which end (data-role), where the socket is
// (data-ws) and the ICE servers (data-ice). Messages other than the answer are
// dispatched as "call-message" events (console.js listens for the operator).
(function () {
  "use strict";
  var root = document.getElementById("call");
  if (!root) { return; }
  var role = root.dataset.role;
  var statusEl = document.getElementById("call-status");
  var promptEl = document.getElementById("call-prompt");
  var remote = document.getElementById("remote-video");
  var local = document.getElementById("local-video");
  var startButton = document.getElementById("call-start");
  var ice = [];
  try { ice = JSON.parse(root.dataset.ice || "[]"); } catch (e) { ice = []; }
  var pc = null, ws = null, stream = null, ended = false;

  function say(text) { if (statusEl) { statusEl.textContent = text; } }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(message)); return true; }
    return false;
  }
  window.sportelloCall = { send: send };

  function gathered(peer) {
    return new Promise(function (resolve) {
      if (peer.iceGatheringState === "complete") { resolve(); return; }
      var done = function () { if (peer.iceGatheringState === "complete") { resolve(); } };
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000);
    });
  }

  async function connect() {
    if (pc) { pc.close(); }
    pc = new RTCPeerConnection({ iceServers: ice });
    if (stream) {
      stream.getTracks().forEach(function (t) { pc.addTrack(t, stream); });
    } else {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    var incoming = new MediaStream();
    pc.addEventListener("track", function (ev) {
      incoming.addTrack(ev.track);
      if (remote.srcObject !== incoming) { remote.srcObject = incoming; }
    });
    pc.addEventListener("connectionstatechange", function () {
      // the console's status says whether the citizen is there (console.js); only the citizen's page says "connected"
      if (pc.connectionState === "connected") {
        if (role === "citizen") { say("Collegato. L'operatore la vede e la sente."); }
      } else if (pc.connectionState === "failed") {
        say("Collegamento video interrotto: ricarica la pagina.");
      }
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    send({ type: "offer", sdp: pc.localDescription.sdp });
  }

  function open() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + root.dataset.ws);
    ws.addEventListener("open", function () { if (role === "citizen") { say("Collegamento in corso…"); } connect(); });
    ws.addEventListener("message", function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "answer") { pc.setRemoteDescription({ type: "answer", sdp: m.sdp }); return; }
      if (m.type === "prompt" && promptEl) { promptEl.hidden = false; promptEl.textContent = m.text; }
      if (m.type === "ended") {
        ended = true;
        say(m.text);
        if (promptEl) { promptEl.hidden = true; }
      }
      if (m.type === "error" && role === "citizen") { say(m.text); }
      document.dispatchEvent(new CustomEvent("call-message", { detail: m }));
    });
    ws.addEventListener("close", function () {
      if (!ended) { say(role === "citizen" ? "La videochiamata non è disponibile: ricarichi la pagina." : "Collegamento chiuso: ricarica la pagina."); }
      if (pc) { pc.close(); }
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    });
  }

  async function start() {
    if (startButton) { startButton.disabled = true; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      if (local) { local.srcObject = stream; }
    } catch (e) {
      stream = null;
      if (role === "citizen") {
        say("Fotocamera o microfono non disponibili: conceda il permesso a questa pagina nelle impostazioni del browser e prema di nuovo il pulsante.");
        if (startButton) { startButton.disabled = false; }
        return;
      }
    }
    if (startButton) { startButton.hidden = true; }
    open();
  }

  if (role === "citizen") {
    startButton.addEventListener("click", start);
  } else {
    start();
  }
})();
