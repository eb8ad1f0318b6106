"""The page's stylesheet and the two small scripts behind the conversation pane and the message box.

The scripts only read the page and call `trigger`: what a click means is decided on the server. They avoid
backticks and `${`, which Gradio's HTML component would evaluate as part of a template.
"""

APP_CSS = """
.gradio-container {max-width: 920px !important; width: 100% !important; margin: 0 auto !important;}
#conversation .prose {max-width: none;}
#title h1 {font-size: 1.6em; margin: 0 0 2px 0;}
#title p {margin: 0;}
.sr-only {position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;}
#conversation .conversation {display: flex; flex-direction: column; gap: 10px; padding: 4px 0;}
#conversation .msg {max-width: 88%; border-radius: 14px; padding: 8px 12px; line-height: 1.45;}
#conversation .msg .text {margin: 0; white-space: pre-wrap; overflow-wrap: anywhere;}
#conversation .msg.user {align-self: flex-end; background: #1f4fa8; color: #ffffff;}
#conversation .msg.user .text {color: #ffffff;}
#conversation .msg.assistant {align-self: flex-start; background: var(--background-fill-secondary);
  color: var(--body-text-color); border: 1px solid var(--border-color-primary);}
#conversation .msg.assistant:last-of-type {animation: convrec-reveal 0.25s ease-out;}
#conversation .typing {display: inline-flex; gap: 5px; align-items: center; min-height: 24px;}
#conversation .typing .dot {width: 8px; height: 8px; border-radius: 50%; background: var(--body-text-color);
  opacity: 0.35; animation: convrec-blink 1.2s infinite;}
#conversation .typing .dot:nth-child(2) {animation-delay: 0.2s;}
#conversation .typing .dot:nth-child(3) {animation-delay: 0.4s;}
#conversation .streaming .text::after {content: "\\258D"; animation: convrec-blink 1s infinite;}
@keyframes convrec-blink {0%, 100% {opacity: 0.25;} 50% {opacity: 1;}}
@keyframes convrec-reveal {from {opacity: 0; transform: translateY(4px);} to {opacity: 1; transform: none;}}
@media (prefers-reduced-motion: reduce) {#conversation * {animation: none !important;}}
#conversation .notice {margin: 0; padding: 8px 12px; border-radius: 8px; border: 1px solid #8a6d00;
  background: #fff8db; color: #3d3000;}
#conversation .greeting p {margin: 0 0 8px 0;}
#conversation .examples {list-style: none; padding: 0; margin: 0 0 8px 0; display: flex; flex-wrap: wrap; gap: 8px;}
#conversation .example, #conversation .fb, #composer .send {min-height: 44px; min-width: 44px; padding: 8px 14px;
  border-radius: 10px; font: inherit; cursor: pointer;}
#conversation .example {border: 1px solid #1f4fa8; background: var(--background-fill-primary); color: #1f4fa8;
  text-align: left;}
#conversation .cards {list-style: none; padding: 0; margin: 0; display: grid; gap: 10px;
  grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));}
#conversation .card {margin: 0; border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 10px 12px;
  background: var(--background-fill-primary); color: var(--body-text-color); display: flex; flex-direction: column;}
#conversation .card h2 {margin: 0 0 4px 0; font-size: 1.05em; line-height: 1.3;}
#conversation .card .rank {color: #1f4fa8; margin-right: 2px;}
#conversation .card .year {font-weight: normal;}
#conversation .card .genres {margin: 0 0 6px 0; color: var(--body-text-color); font-size: 0.92em; font-weight: 600;}
#conversation .card .reasons {margin: 0 0 8px 1.1em; padding: 0;}
#conversation .card .reasons li {margin: 2px 0;}
#conversation .actions {display: flex; flex-wrap: wrap; gap: 6px; margin-top: auto;}
#conversation .fb {border: 1px solid #4a4a4a; background: #ffffff; color: #1a1a1a; flex: 1 1 auto; white-space: nowrap;}
#conversation .fb:hover, #conversation .example:hover {background: #e8eefb;}
#conversation .fb[aria-pressed="true"] {background: #1f6b2e; border-color: #1f6b2e; color: #ffffff;}
#conversation .fb:disabled {opacity: 0.6; cursor: progress;}
#conversation button:focus-visible, #composer textarea:focus-visible, #composer .send:focus-visible {
  outline: 3px solid #f0a500; outline-offset: 2px;}
#conversation details.earlier summary {cursor: pointer; min-height: 44px; display: flex; align-items: center;
  color: var(--body-text-color); list-style: none;}
#conversation details.earlier summary::before {content: "\25B8"; margin-right: 8px;}
#conversation details.earlier[open] summary::before {content: "\25BE";}
#composer {position: sticky; bottom: 0; z-index: 5; background: var(--background-fill-primary);
  padding: 8px 0;}
#composer .composer textarea {width: 100%; box-sizing: border-box; border-radius: 10px; padding: 10px;
  border: 1px solid #4a4a4a; font: inherit; resize: vertical; background: var(--background-fill-primary);
  color: var(--body-text-color);}
#composer .composer-row {display: flex; justify-content: space-between; align-items: center; margin-top: 6px;}
#composer .counter {color: var(--body-text-color); font-size: 0.9em;}
#composer .counter.over {color: #b00020; font-weight: 600;}
#composer .send {background: #1f4fa8; color: #ffffff; border: none; font-weight: 600;}
#composer .send:disabled {background: #6b7280; color: #ffffff; cursor: not-allowed;}
"""

CONVERSATION_JS = """
element.addEventListener('click', function (event) {
  var example = event.target.closest('button.example');
  if (example) {
    trigger('click', {action: 'example', text: example.dataset.text});
    return;
  }
  var button = event.target.closest('button.fb');
  if (button && !button.disabled) {
    element.querySelectorAll('.cards.live button.fb').forEach(function (b) { b.disabled = true; });
    trigger('click', {action: 'feedback', kind: button.dataset.kind, item_id: Number(button.dataset.item)});
  }
});
watch('value', function () {
  var messages = element.querySelectorAll('.msg');
  if (messages.length) { messages[messages.length - 1].scrollIntoView({block: 'nearest'}); }
});
"""

COMPOSER_JS = """
var form = element.querySelector('form.composer');
var box = form.querySelector('textarea');
var send = form.querySelector('button.send');
var counter = form.querySelector('.counter');
var limit = Number(form.dataset.limit);
function count(n) { return n.toLocaleString('en-US'); }
function update() {
  var n = box.value.length;
  var over = n > limit;
  send.disabled = over || box.value.trim().length === 0;
  counter.textContent = count(n) + ' / ' + count(limit) + (over ? ': ' + count(n - limit) + ' too many' : '');
  counter.classList.toggle('over', over);
  box.setAttribute('aria-invalid', over ? 'true' : 'false');
}
function submit() {
  update();
  if (send.disabled) { return; }
  var text = box.value;
  box.value = '';
  update();
  trigger('submit', {text: text});
}
box.addEventListener('input', update);
form.addEventListener('submit', function (event) { event.preventDefault(); submit(); });
box.addEventListener('keydown', function (event) {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
});
update();
"""
