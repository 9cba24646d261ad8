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
