// The reviewer's keyboard: 1/0 (or a class number) picks the outcome, n the note, s skips, Enter records.
(function () {
  var form = document.getElementById("review-form");
  document.addEventListener("keydown", function (event) {
    var typing = event.target.tagName === "TEXTAREA" || (event.target.tagName === "INPUT" && event.target.type === "text");
    if (event.key === "Escape" && typing) { event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    var radio = form.querySelector('input[type=radio][data-key="' + event.key + '"]');
    if (radio) { radio.checked = true; event.preventDefault(); return; }
    if (event.key === "n") { document.getElementById("id_note").focus(); event.preventDefault(); }
    else if (event.key === "s") { document.getElementById("skip").click(); event.preventDefault(); }
    else if (event.key === "Enter") { form.querySelector('button[value=review]').click(); event.preventDefault(); }
  });
})();
