// Deforum tab: start Generate with the WebUI's progress bar and live preview (functions from the WebUI's own scripts).
function submit_deforum() {
    var id = randomId();
    showSubmitButtons('deforum', false);
    requestProgress(id, gradioApp().getElementById('deforum_gallery_container'), gradioApp().getElementById('deforum_gallery'), function() {
        showSubmitButtons('deforum', true);
    });
    var res = Array.from(arguments);
    res[0] = id;
    return res;
}

// Hover hints: each setting's title from the hints the tab carries (data-deforum-hints), set once per page.
function deforum_apply_hints() {
    var holder = gradioApp().querySelector('[data-deforum-hints]');
    if (!holder || holder.dataset.applied) return;
    var hints = JSON.parse(holder.dataset.deforumHints);
    Object.keys(hints).forEach(function(id) {
        var element = gradioApp().getElementById(id);
        if (element) element.title = hints[id];
    });
    holder.dataset.applied = '1';
}

onUiUpdate(deforum_apply_hints);
