/**
 * The editor library of node-red-contrib-dashscope-tts: what the edit dialogs share. Every dialog
 * loads it, and catalog.js beside it, with <script src="resources/node-red-contrib-dashscope-tts/…">:
 * Node-RED serves a module's resources/ folder there and runs these files before the dialogs' own
 * scripts. catalog.js is written by the build from the runtime's catalog, so the dialogs offer and
 * flag exactly what the runtime takes and refuses; nothing about models is typed into a dialog.
 *
 * A dialog keeps what is its own (its fields, what shows for which model); the library holds the
 * rows several dialogs have, the advanced section (essentials first), the model, voice and target
 * pickers, the validators, and the mending of imported nodes whose service node is missing.
 * catalog.js also brings runtime rules bundled as they are (lib.rules: which base URLs a service
 * node refuses, which voices a model speaks, how an instruction's length is counted).
 */
(function (root) {
    'use strict';
    var lib = root.DashScopeEditor = root.DashScopeEditor || {};
    // Each dialog names this file, so a page may run it once per dialog: the first run serves all.
    if (lib.behaviour) { return; }

    // The texts of the shared rows live once, in the catalog of the service node (tts-config).
    var TEXTS = 'node-red-contrib-dashscope-tts/tts-config:tts-config.editor.';
    var FAMILIES = ['cosyvoice', 'qwen'];
    /** Model ids are long: their selects take the row's whole width beside the label. */
    var WIDE = 'calc(100% - 110px)';
    /**
     * A note or tip sits in its own row, in the column of the inputs: wrapped lines stay there
     * instead of running under the labels. Dialogs that build such a row themselves use these
     * (lib.style) too, so that every note and tip looks alike.
     */
    var STYLE = {
        note: 'display: inline-block; width: 70%; vertical-align: top; font-size: 0.9em; color: var(--red-ui-secondary-text-color, #888)',
        tip: 'display: inline-block; width: 70%; box-sizing: border-box; vertical-align: top'
    };
    lib.style = STYLE;

    function textKey(key) { return TEXTS + key; }
    function text(key, args) { return RED._(TEXTS + key, args); }

    // ---- the catalog ------------------------------------------------------------------------

    function catalog() { return lib.catalog; }
    /** A family's rules (cosyvoice or qwen), or undefined for anything else. */
    function rulesOf(family) { return FAMILIES.indexOf(family) >= 0 ? catalog().families[family] : undefined; }
    function modelInfo(id) { return catalog().models.filter(function (m) { return m.id === id; })[0]; }
    function modelsOf(family) {
        var kind = rulesOf(family).modelFamily;
        return catalog().models.filter(function (m) { return m.family === kind; });
    }
    function ids(list) { return list.map(function (m) { return m.id; }); }
    /** Every value of `key` over `lists`' entries, each once, in catalog order. */
    function union(lists, key) {
        var all = [];
        lists.forEach(function (entry) {
            entry[key].forEach(function (v) { if (all.indexOf(v) < 0) { all.push(v); } });
        });
        return all;
    }
    function ascending(a, b) { return a - b; }
    /** Characters as the service counts design texts: code points (docs/protocol.md "Custom voices: design texts"). */
    function characters(s) { return Array.from(s.trim()).length; }
    /** The custom-voice targets a synthesis node of this package can speak with (the catalog also lists non-realtime ones). */
    function offeredTargets(family, kind) {
        return rulesOf(family)[kind].targets.filter(function (id) { return !!modelInfo(id); });
    }

    // ---- validators ---------------------------------------------------------------------------

    function blank(v) { return v === undefined || v === null || v === ''; }

    // The nodes whose dialogs are open, the innermost last: a service node's dialog opens over a
    // speech node's (the pencil beside Service), and when it closes, the speech node's fields
    // speak for it again. Only the innermost dialog's fields are in the page under node-input-*.
    var editing = [];

    function opened(node) {
        closed(node);
        editing.push(node);
    }
    /** Closed (saved, cancelled, deleted). Node-RED cancels a new service node with a stand-in `this` that has its id only. */
    function closed(node) {
        editing = editing.filter(function (n) { return n !== node && n.id !== node.id; });
    }
    function isEditing(node) {
        var top = editing[editing.length - 1];
        return !!top && (top === node || top.id === node.id);
    }

    /** A property's value: the dialog's field while the node is being edited, else the node's own. */
    function current(node, prop) {
        var field = isEditing(node) ? $('#node-input-' + prop) : { length: 0 };
        if (!field.length) { return node[prop]; }
        return field.is(':checkbox') ? field.prop('checked') : field.val();
    }

    /**
     * A number from min to max (above min with `above`, whole with `whole`). Blank is valid: the
     * runtime takes the default. With `message`, Node-RED is told why (its validators' second argument).
     */
    function number(min, max, options) {
        var o = options || {};
        return function (v, opt) {
            if (blank(v)) { return true; }
            var n = Number(v);
            var ok = isFinite(n) && (o.above ? n > min : n >= min) && n <= max && (!o.whole || Math.floor(n) === n);
            return ok || !opt || !o.message ? ok : this._(o.message);
        };
    }

    /** Whole-numbered ranges (volume, seed, bit rate) take whole numbers; the others (rate, pitch) any. */
    function wholeRange(range) { return Math.floor(range[0]) === range[0] && Math.floor(range[1]) === range[1]; }

    /** A task or session parameter within the catalog's range for the family (e.g. cosyvoice volume). */
    function parameter(family, name) {
        var range = rulesOf(family).parameters.ranges[name];
        return number(range[0], range[1], { whole: wholeRange(range) });
    }

    function oneOf(values) {
        return function (v) { return values.indexOf(v) >= 0; };
    }

    /** Judges a value with the rules of the family the node (or its open dialog) is set to. */
    function byFamily(check) {
        return function (v) {
            var rules = rulesOf(current(this, 'family'));
            // An unknown family is flagged by the family field itself.
            return !rules || check.call(this, v, rules);
        };
    }

    /** The model, or, for an unknown one, every model of the family (the model field is flagged). */
    function modelOrFamily(node, family) {
        var model = modelInfo(current(node, 'model'));
        return model && model.family === rulesOf(family).modelFamily ? [model] : modelsOf(family);
    }

    /**
     * Whether the runtime would speak `voice` with `model` (blank: msg.voice or the model's first
     * voice decides then; an unknown model: the model field is flagged). The runtime's own rule,
     * src/dashscope/voice-rule.ts, bundled into catalog.js (lib.rules) and run over its catalog.
     */
    function voiceFits(model, voice) {
        return !lib.rules.voiceProblem(catalog(), model, voice);
    }

    /**
     * A setting only some models take, that the runtime refuses on the others (SSML, an
     * instruction): valid when unset, or when the node's model (or an unknown one: the model field
     * is flagged) has `key` in the catalog.
     */
    function modelTakes(key) {
        return function (v) {
            if (blank(v) || v === false || (typeof v === 'string' && !v.trim())) { return true; }
            var model = modelInfo(current(this, 'model'));
            return !model || !!model[key];
        };
    }

    /**
     * Shows the row of `field` where the model takes it, and also where it holds a value the
     * model does not take: the field is marked then, and a marked field is never hidden.
     */
    function showRow(field, takes) {
        var input = $('#node-input-' + field);
        var holds = input.is(':checkbox') ? input.prop('checked') : !blank(input.val()) && String(input.val()).trim() !== '';
        $('.dashscope-tts-row-' + field).toggle(!!takes || !!holds);
    }
    lib.showRow = showRow;

    function synthesisValidators(family) {
        return {
            model: function (v) {
                var model = modelInfo(v);
                return !!model && model.family === rulesOf(family).modelFamily;
            },
            format: function (v) { return union(modelOrFamily(this, family), 'formats').indexOf(v) >= 0; },
            sampleRate: function (v) { return union(modelOrFamily(this, family), 'sampleRates').indexOf(Number(v)) >= 0; },
            voice: function (v) { return voiceFits(current(this, 'model'), (v || '').trim()); }
        };
    }

    lib.current = current;
    lib.validate = {
        number: number,
        parameter: parameter,
        oneOf: oneOf,
        byFamily: byFamily,
        characters: characters,
        voiceFits: voiceFits,
        modelTakes: modelTakes
    };

    // ---- rows several dialogs share -----------------------------------------------------------

    /** A row's label: its icon and the shared text label.<key>, for the field node-input-<key> unless `free`. */
    function label(key, icon, free) {
        return '<label' + (free ? '' : ' for="node-input-' + key + '"') + '><i class="fa fa-' + icon + '"></i> <span data-i18n="' + textKey('label.' + key) + '"></span></label>';
    }
    /** A form row; `hidden`: shown by the dialog once it has something to show. */
    function row(content, className, hidden) {
        return '<div class="form-row' + (className ? ' ' + className : '') + '"' + (hidden ? ' style="display: none"' : '') + '>' + content + '</div>';
    }
    function checkbox(field, key, style) {
        return '<label for="node-input-' + field + '" style="width: auto' + (style || '') + '"><input type="checkbox" id="node-input-' + field + '" style="width: auto; margin: 0 4px 0 0"> <span data-i18n="' + key + '"></span></label>';
    }
    function select(field, width) {
        return '<select id="node-input-' + field + '" style="width: ' + width + '"></select>';
    }

    /**
     * The rows a template names in <div data-dashscope-rows="service model …"></div>, in that
     * order (besides the tokens `check:<field>`, `text:`/`select:`/`textarea:<field>[:icon]`,
     * `language:<field>`, `tip:<key>`, `heading:<key>`, `advanced:` and the rows a node type builds
     * for itself).
     */
    var ROWS = {
        service: row(label('config', 'key') + '<input type="text" id="node-input-config">'),
        model: row(label('model', 'cube') + select('model', WIDE)) +
            row('<label>&nbsp;</label><span id="dashscope-tts-model-note" style="' + STYLE.note + '"></span>', 'dashscope-tts-note'),
        voice: row(label('voice', 'user') +
                '<input type="text" id="node-input-voice" list="node-input-voice-list" style="width: calc(70% - 84px)"><datalist id="node-input-voice-list"></datalist>' +
                ' <button id="dashscope-tts-list-voices" class="red-ui-button" data-i18n="[title]' + textKey('button.listVoices') + '"><i class="fa fa-list"></i></button>' +
                ' <button id="dashscope-tts-preview" class="red-ui-button" data-i18n="[title]' + textKey('button.preview') + '"><i class="fa fa-play"></i></button>') +
            // The voice buttons' note and the preview's player: rows shown once there is something in them.
            row('<label>&nbsp;</label><span id="dashscope-tts-voice-note" style="' + STYLE.note + '"></span>', 'dashscope-tts-row-voice-note', true) +
            row('<label>&nbsp;</label><audio id="dashscope-tts-preview-audio" controls style="height: 28px; vertical-align: middle; width: 70%"></audio>', 'dashscope-tts-row-preview', true),
        audio: row(label('format', 'file-audio-o') + select('format', '100px') +
                ' <label for="node-input-sampleRate" style="width: auto; margin-left: 12px" data-i18n="' + textKey('label.sampleRate') + '"></label>' + select('sampleRate', '100px') + ' Hz') +
            row('<label for="node-input-bitRate" data-i18n="' + textKey('label.bitRate') + '"></label><input type="text" id="node-input-bitRate" style="width: 120px">', 'dashscope-tts-row-bitRate'),
        input: row(label('input', 'sign-in') + '<select id="node-input-input" style="width: 70%">' +
            '<option value="utterance" data-i18n="' + textKey('input.utterance') + '"></option>' +
            '<option value="stream" data-i18n="' + textKey('input.stream') + '"></option></select>'),
        offline: row(label('offline', 'life-ring', true) +
            checkbox('cache', textKey('label.cache')) + checkbox('fallback', textKey('label.fallback'), '; margin-left: 12px')),
        family: row(label('family', 'sitemap') + select('family', '70%')),
        target: row(label('targetModel', 'cube') + select('targetModel', WIDE)),
        voiceName: row(label('voiceName', 'user') + '<input type="text" id="node-input-voiceName" style="width: 70%">'),
        action: row(label('action', 'tasks') + select('action', '70%')),
        poll: row(label('pollInterval', 'clock-o') + '<input type="text" id="node-input-pollInterval" placeholder="10" style="width: 60px"> s' +
            ' <label for="node-input-pollTimeout" style="width: auto; margin-left: 12px" data-i18n="' + textKey('label.pollTimeout') + '"></label> <input type="text" id="node-input-pollTimeout" placeholder="300" style="width: 60px"> s', 'dashscope-tts-row-poll'),
        name: row('<label for="node-input-name"><i class="fa fa-tag"></i> <span data-i18n="node-red:common.label.name"></span></label>' +
            '<input type="text" id="node-input-name" data-i18n="[placeholder]node-red:common.label.name">')
    };
    /**
     * A synthesis node's speed, volume and pitch row: `tuning` maps its fields to the service's
     * parameters, in the order shown; each shows the service's default as its placeholder.
     */
    function tuningRow(type, family, tuning) {
        var parameters = rulesOf(family).parameters;
        return row(Object.keys(tuning).map(function (field, i) {
            var name = tuning[field];
            var fallback = parameters.defaults[name];
            var shown = wholeRange(parameters.ranges[name]) ? String(fallback) : Number(fallback).toFixed(1);
            return '<label for="node-input-' + field + '"' + (i ? ' style="width: auto; margin-left: 12px"' : '') + ' data-i18n="' + type + '.label.' + field + '"></label>' +
                '<input type="text" id="node-input-' + field + '" placeholder="' + shown + '" style="width: 60px">';
        }).join(' '), 'dashscope-tts-row-tuning');
    }

    /** `check:<field>`: a row with the node's checkbox <field>, labelled by its own text label.<field>. */
    function checkRow(type, field) {
        return row('<label>&nbsp;</label>' + checkbox(field, type + '.label.' + field), 'dashscope-tts-row-' + field);
    }

    /**
     * `language:<field>`: the Language row every node with a language setting has, alike in each:
     * a select whose options the dialog fills with lib.languages (blank first: automatic).
     */
    function languageRow(field) {
        return row(label('language', 'language', true).replace('<label>', '<label for="node-input-' + field + '">') + select(field, '70%'), 'dashscope-tts-row-' + field);
    }

    /** `tip:<key>`: the text <type>.tip.<key> in a row of its own, in the column of the inputs. */
    function tipRow(type, key) {
        return row('<label>&nbsp;</label><div class="form-tips" style="' + STYLE.tip + '" data-i18n="[html]' + type + '.tip.' + key + '"></div>', 'dashscope-tts-row-tip-' + key);
    }

    /**
     * `heading:<key>`: the text <type>.heading.<key> over the rows that follow it, so that a dialog
     * with many settings shows them in groups (as Node-RED's own dialogs head their sections).
     */
    function headingRow(type, key) {
        return '<div class="form-row dashscope-tts-heading dashscope-tts-row-heading-' + key + '" style="margin: 14px 0 8px; padding-bottom: 2px; border-bottom: 1px solid var(--red-ui-secondary-border-color, #ddd)">' +
            '<span style="font-weight: bold" data-i18n="' + type + '.heading.' + key + '"></span></div>';
    }

    /**
     * `advanced:` ends a dialog's essentials: the rows after it (to the end of the placeholder) are
     * in a section that opens on demand, as the options of core nodes such as http request do, and
     * opens by itself when it holds a value that is not the default or an invalid one (openAdvanced).
     */
    var ADVANCED_START = '<div class="form-row dashscope-tts-advanced-toggle"><a href="#" class="dashscope-tts-advanced-link">' +
        '<i class="fa fa-caret-right"></i> <span data-i18n="' + textKey('advanced') + '"></span></a></div>' +
        '<div class="dashscope-tts-advanced" style="display: none">';

    var FIELD_ROW = /^(text|select|textarea):(\w+)(?::([\w-]+))?$/;
    /**
     * A row of the node's own: `text:field`, `select:field` or `textarea:field`, with an optional
     * Font Awesome icon (`select:mode:random`). Labelled `<type>.label.<field>`; its class
     * dashscope-tts-row-<field> lets the dialog show or hide it; options and placeholders are the
     * dialog's to set.
     */
    function fieldRow(type, kind, field, icon) {
        var id = 'node-input-' + field;
        var label = '<label for="' + id + '">' + (icon ? '<i class="fa fa-' + icon + '"></i> ' : '') + '<span data-i18n="' + type + '.label.' + field + '"></span></label>';
        var input = kind === 'select' ? select(field, '70%')
            : kind === 'textarea' ? '<textarea id="' + id + '" rows="3" style="width: 70%"></textarea>'
            : '<input type="text" id="' + id + '" style="width: 70%">';
        return row(label + input, 'dashscope-tts-row-' + field);
    }

    var PLACEHOLDER = /<div data-dashscope-rows="([^"]*)"><\/div>/g;

    /**
     * Puts the shared rows into a node's template. Node-RED builds a dialog from the template text
     * and binds the node-input-* fields before oneditprepare, so the rows must be there already:
     * registration time, when the module's templates are in the page (Node-RED appends a module's
     * HTML as a whole and then runs its scripts).
     */
    function expandTemplate(type, ownRows) {
        var template = $('script[data-template-name="' + type + '"]');
        if (!template.length) { return; }
        template[0].text = template[0].text.replace(PLACEHOLDER, function (all, names) {
            var advanced = false;
            return names.split(/\s+/).filter(Boolean).map(function (name) {
                if (name === 'advanced:') { advanced = true; return ADVANCED_START; }
                var check = /^check:(\w+)$/.exec(name);
                var language = /^language:(\w+)$/.exec(name);
                var tip = /^tip:(\w+)$/.exec(name);
                var heading = /^heading:(\w+)$/.exec(name);
                var field = FIELD_ROW.exec(name);
                var html = check ? checkRow(type, check[1]) : language ? languageRow(language[1]) : tip ? tipRow(type, tip[1]) : heading ? headingRow(type, heading[1])
                    : field ? fieldRow(type, field[1], field[2], field[3]) : (ownRows && ownRows[name]) || ROWS[name];
                if (!html) { throw new Error(type + ': no shared row "' + name + '"'); }
                return html;
            }).join('\n') + (advanced ? '</div>' : '');
        });
    }
    lib.rows = ROWS;

    /** Blank, or the same as the default: what a new node has. */
    function isDefault(value, fallback) {
        return blank(value) || String(value) === String(fallback);
    }

    /**
     * Wires the toggle of the dialog's advanced section, and opens it when one of its fields holds
     * a value that is not the default, or one the field's validator refuses: nothing set there
     * stays out of sight. A field in it can also become invalid while the dialog is open (another
     * family or target takes other languages): after every change in the form, the section opens
     * when it holds a marked field.
     */
    function openAdvanced(node) {
        var section = $('.dashscope-tts-advanced').last();
        if (!section.length) { return; }
        var link = section.prev('.dashscope-tts-advanced-toggle').find('a');
        function show(open) {
            section.toggle(open);
            link.find('i').toggleClass('fa-caret-right', !open).toggleClass('fa-caret-down', open);
        }
        link.on('click', function (e) { e.preventDefault(); show(!section.is(':visible')); });
        var defaults = node._def.defaults;
        var holds = section.find('[id^="node-input-"], [id^="node-config-input-"]').toArray().some(function (el) {
            var prop = el.id.replace(/^node-(config-)?input-/, '');
            var d = defaults[prop];
            if (!d) { return false; }
            var value = node[prop];
            var valid = !d.validate || d.validate.call(node, value) === true;
            return !valid || !isDefault(value, d.value);
        });
        show(holds);
        // After Node-RED's own handlers, which mark the field that changed (and those a change
        // revalidates), have run.
        section.closest('form').on('change keyup input', function () {
            setTimeout(function () {
                if (!section.is(':visible') && section.find('.input-error').length) { show(true); }
            }, 0);
        });
    }
    lib.openAdvanced = openAdvanced;

    /**
     * Fills a Language row: blank (automatic) first, then `values`, each shown by its language's
     * name (`codeOf` turns a value into its code when the values are not codes, as Qwen's).
     */
    function languages(selectEl, values, value, codeOf) {
        fill(selectEl, [''].concat(values), function (v) {
            var key = 'language.' + (v ? (codeOf ? codeOf(v) : v) : 'auto');
            var name = text(key);
            // A value of a flow written elsewhere (e.g. "zh, en") is shown as it is.
            return name.indexOf(key) >= 0 ? v : name;
        }, value, true);
    }
    lib.languages = languages;

    // ---- pickers ------------------------------------------------------------------------------

    /**
     * Gives a select (or datalist) these options. The value to show is kept when still offered;
     * with `keepUnknown` a value the list lacks is offered too, so opening a dialog never changes
     * a setting by itself (the field's validator says what is wrong with it).
     */
    function fill(select, values, textOf, value, keepUnknown) {
        var list = values.map(String);
        var shown = blank(value) ? '' : String(value);
        if (keepUnknown && shown && list.indexOf(shown) < 0) { list.push(shown); }
        select.empty();
        list.forEach(function (v) { $('<option>').attr('value', v).text(textOf ? textOf(v) : v).appendTo(select); });
        if (list.indexOf(shown) >= 0) { select.val(shown); }
    }
    /**
     * Leaves enabled only the options the model (or family) takes, and the chosen one: a chosen
     * option that is disabled has no value for the field (jQuery's val() gives null), so the
     * field's validator could not mark it, and a blank-means-automatic field would pass.
     */
    function enable(select, allowed) {
        var offered = allowed.map(String);
        var chosen = select.find('option:selected').attr('value');
        select.find('option').each(function () {
            var value = $(this).attr('value');
            $(this).prop('disabled', offered.indexOf(value) < 0 && value !== chosen);
        });
    }
    lib.fill = fill;
    lib.enable = enable;

    function configId() {
        var id = $('#node-input-config').val();
        return id && id !== '_ADD_' ? id : '';
    }

    /**
     * The two buttons beside the voice: both go through the *deployed* tts-config (the key stays
     * in the runtime). Answers may be Blobs, so the raw XMLHttpRequest is kept to read errors.
     */
    function voiceButtons(family, modelSelect) {
        var noteText = $('#dashscope-tts-voice-note');
        var note = { text: function (t) { noteText.text(t); $('.dashscope-tts-row-voice-note').show(); } };
        var voiceList = $('#node-input-voice-list');
        function post(path, data, blob) {
            var raw;
            var req = $.ajax({
                url: path,
                method: 'POST',
                contentType: 'application/json',
                data: JSON.stringify(data),
                xhr: function () { raw = new window.XMLHttpRequest(); return raw; },
                xhrFields: blob ? { responseType: 'blob' } : {}
            });
            req.fail(function (xhr) {
                var body = raw && raw.response;
                var show = function (answer) {
                    var msg = '';
                    try { msg = JSON.parse(answer).error; } catch (err) { msg = ''; }
                    note.text(text('voiceNote.failed', { error: msg || xhr.statusText || xhr.status }));
                };
                if (body && typeof body.text === 'function') { body.text().then(show); } else { show(xhr.responseText || ''); }
            });
            return req;
        }
        $('#dashscope-tts-list-voices').on('click', function (e) {
            e.preventDefault();
            if (!configId()) { note.text(text('voiceNote.noConfig')); return; }
            note.text(text('voiceNote.listing'));
            post('dashscope-tts/voices', { config: configId(), family: family, model: modelSelect.val() }).done(function (data) {
                voiceList.find('option.dashscope-tts-custom').remove();
                data.voices.forEach(function (v) {
                    $('<option>').addClass('dashscope-tts-custom').attr('value', v.voice).text(v.voice + ' — ' + text('voiceNote.custom') + ' (' + v.status + ')').appendTo(voiceList);
                });
                note.text(text('voiceNote.listed', { count: data.voices.length, model: modelSelect.val() }));
            });
        });
        $('#dashscope-tts-preview').on('click', function (e) {
            e.preventDefault();
            var voice = ($('#node-input-voice').val() || '').trim();
            if (!configId()) { note.text(text('voiceNote.noConfig')); return; }
            if (!voice) { note.text(text('voiceNote.noVoice')); return; }
            note.text(text('voiceNote.previewing', { voice: voice }));
            post('dashscope-tts/preview', { config: configId(), model: modelSelect.val(), voice: voice }, true).done(function (blob) {
                var audio = $('#dashscope-tts-preview-audio');
                var previous = audio.attr('src');
                if (previous) { URL.revokeObjectURL(previous); }
                audio.attr('src', URL.createObjectURL(blob));
                $('.dashscope-tts-row-preview').show();
                note.text(text('voiceNote.playing', { voice: voice }));
                var playing = audio[0].play();
                // A browser that refuses to play without a fresh click still shows the controls.
                if (playing && playing.catch) { playing.catch(function () { note.text(text('voiceNote.pressPlay')); }); }
            });
        });
    }

    /**
     * The model, voice and audio rows of a synthesis dialog: the family's models, the system
     * voices of the chosen one, the formats and rates it takes, its bit rate where it has one.
     * `own(model, takes, format)` shows the node's own rows that depend on the model.
     */
    function synthesisDialog(node, spec) {
        var family = spec.family;
        var rules = rulesOf(family);
        var modelSelect = $('#node-input-model');
        var format = $('#node-input-format');
        var sampleRate = $('#node-input-sampleRate');
        var models = modelsOf(family);
        fill(modelSelect, ids(models), null, node.model, true);
        // Models that speak custom voices only, in a group of their own (their ids are long
        // enough: a note in each option would be cut off).
        var customOnly = $('<optgroup>').attr('label', text('customOnlyGroup'));
        modelSelect.find('option').each(function () {
            var model = modelInfo(this.value);
            if (model && !model.systemVoices) { customOnly.append(this); }
        });
        if (customOnly.children().length) { modelSelect.append(customOnly); }
        if (!blank(node.model)) { modelSelect.val(String(node.model)); }
        fill(format, union(models, 'formats'), null, node.format, true);
        fill(sampleRate, union(models, 'sampleRates').sort(ascending), null, node.sampleRate, true);
        var bitRates = rules.parameters.ranges.bit_rate_kbps;
        $('#node-input-bitRate').attr('placeholder', text('placeholder.bitRate', { default: rules.parameters.defaults.bit_rate, min: bitRates[0], max: bitRates[1] }));

        var refreshing = false;
        function refresh() {
            var model = modelInfo(modelSelect.val());
            if (!model || refreshing) { return; }
            refreshing = true;
            try {
                showModel(model);
            } finally {
                refreshing = false;
            }
        }
        function showModel(model) {
            var voices = catalog().voices[family].filter(function (v) { return v.models.indexOf(model.id) >= 0; });
            var names = {};
            voices.forEach(function (v) { names[v.id] = v.name; });
            fill($('#node-input-voice-list'), ids(voices), function (id) { return names[id] ? id + ' — ' + names[id] : id; });
            $('#node-input-voice').attr('placeholder', node._(node.type + (model.systemVoices ? '.placeholder.voice' : '.placeholder.voiceCustomOnly')));
            $('#dashscope-tts-model-note').text(text('supports', { formats: model.formats.join(', '), rates: model.sampleRates.join(', ') }) +
                (model.instructions ? ' · ' + text('supportsInstructions') : '') + (model.systemVoices ? '' : ' · ' + text('customOnly')));
            enable(format, model.formats);
            enable(sampleRate, model.sampleRates);
            var takes = function (p) { return model.parameters.indexOf(p) >= 0 || model.tunables.indexOf(p) >= 0; };
            $('.dashscope-tts-row-bitRate').toggle(format.val() === 'opus' && takes('bit_rate'));
            $('.dashscope-tts-row-tuning').toggle(Object.keys(spec.tuning).some(function (f) { return takes(spec.tuning[f]); }));
            spec.own.call(node, model, takes, format.val());
            // Which formats, rates and voices are valid depends on the model (refresh is not re-entered).
            ['format', 'sampleRate', 'voice'].forEach(function (p) { $('#node-input-' + p).trigger('change'); });
        }
        format.on('change', refresh);
        modelSelect.on('change', refresh);
        voiceButtons(family, modelSelect);
        refresh();
    }

    /**
     * The family, target model, name, action and polling rows of a voice-clone or voice-design
     * dialog. `own(rules)` adapts the node's own rows to the chosen family's rules; `dependents`
     * are the node's fields whose validity depends on the family or the target.
     */
    function voiceDialog(node, spec) {
        var type = node.type;
        var family = $('#node-input-family');
        var target = $('#node-input-targetModel');
        fill(family, FAMILIES, function (f) { return node._(type + '.family.' + f); }, node.family, true);
        fill($('#node-input-action'), spec.actions, function (a) { return node._(type + '.action.' + a); }, node.action, true);
        var nameHints = { cosyvoice: textKey('placeholder.voiceNameCosyVoice'), qwen: textKey('placeholder.voiceNameQwen') };
        function revalidate() {
            ['targetModel', 'voiceName'].concat(spec.dependents).forEach(function (p) { $('#node-input-' + p).trigger('change'); });
        }
        function refresh(initial) {
            var f = family.val();
            var rules = rulesOf(f);
            if (!rules) { return; }
            fill(target, offeredTargets(f, spec.kind), null, initial ? node.targetModel : target.val(), initial);
            $('#node-input-voiceName').attr('placeholder', RED._(nameHints[f]));
            // Only CosyVoice voices are deployed after they are made; Qwen voices work at once.
            $('.dashscope-tts-row-poll').toggle(f === 'cosyvoice');
            spec.own.call(node, rules);
            revalidate();
        }
        family.on('change', function () { refresh(false); });
        target.on('change', function () { spec.dependents.forEach(function (p) { $('#node-input-' + p).trigger('change'); }); });
        refresh(true);
    }

    // ---- what node definitions share --------------------------------------------------------
    //
    // Each dialog calls RED.nodes.registerType itself, with a literal definition that states its
    // category, color, icon, inputs, outputs and defaults (the Flow Library reads those from the
    // literal); what the library adds is spread into it.

    function nameStyle() { return this.name ? 'node_label_italic' : ''; }

    /** Copies the entries of `extra` into `base` and returns it. */
    function assign(base, extra) {
        Object.keys(extra || {}).forEach(function (k) { base[k] = extra[k]; });
        return base;
    }

    /**
     * The behaviour every node type of the palette category shares, to spread last into its
     * definition: output labels, label style, an oneditprepare that runs `own.oneditprepare` in
     * the shared dialog (and `own.label` when given). Expands the dialog's shared rows
     * (`ownRows`: rows built for this type, by name).
     */
    lib.behaviour = function (type, own, ownRows) {
        var prepare = own.oneditprepare;
        expandTemplate(type, ownRows);
        return assign({
            outputLabels: function (i) { return this._(type + '.outputs.' + i); },
            labelStyle: nameStyle,
            oneditprepare: function () {
                opened(this);
                if (prepare) { prepare.call(this); }
                openAdvanced(this);
            },
            // Closed: its validators read its own values again, not its dialog's fields.
            oneditsave: function () { closed(this); },
            oneditcancel: function () { closed(this); },
            oneditdelete: function () { closed(this); }
        }, own.label ? { label: own.label } : {});
    };

    /**
     * A synthesis node (cosyvoice-stream, qwen-realtime): the defaults and behaviour both share.
     * The spec gives what is its own: family, default model and voice, `tuning` (see tuningRow),
     * `own(model, takes, format)` for its model-dependent rows and an `oneditprepare` for the rest.
     */
    lib.synthesis = function (type, spec) {
        var valid = synthesisValidators(spec.family);
        var defaults = {
            name: { value: '' },
            config: { value: '', type: 'tts-config', required: true },
            model: { value: spec.model, required: true, validate: valid.model },
            voice: { value: spec.voice, validate: valid.voice },
            format: { value: 'pcm', required: true, validate: valid.format },
            sampleRate: { value: 24000, required: true, validate: valid.sampleRate },
            bitRate: { value: '', validate: parameter(spec.family, 'bit_rate_kbps') },
            cache: { value: false },
            fallback: { value: false },
            input: { value: 'utterance', validate: oneOf(['utterance', 'stream']) }
        };
        Object.keys(spec.tuning).forEach(function (field) { defaults[field] = { value: '', validate: parameter(spec.family, spec.tuning[field]) }; });
        return {
            defaults: defaults,
            behaviour: lib.behaviour(type, {
                label: function () {
                    // Model and voice are what tell two synthesis nodes apart; an empty voice means msg.voice.
                    return this.name || ((this.voice || 'msg.voice') + ' · ' + (this.model || spec.family));
                },
                oneditprepare: function () {
                    // The node's own preparation first: its pickers are then filled when the model's rules apply.
                    if (spec.oneditprepare) { spec.oneditprepare.call(this); }
                    synthesisDialog(this, spec);
                }
            }, { tuning: tuningRow(type, spec.family, spec.tuning) })
        };
    };

    /**
     * A custom-voice node (voice-clone, voice-design) of `spec.kind`: the defaults and behaviour
     * both share. The spec gives its default voice name, actions, `dependents` and `own(rules)`
     * (see voiceDialog), an `oneditprepare` for its own pickers and `rows`, its own rows by name.
     */
    lib.voiceNode = function (type, spec) {
        var actions = spec.actions.concat('msg');
        return {
            defaults: {
                name: { value: '' },
                config: { value: '', type: 'tts-config', required: true },
                family: { value: 'cosyvoice', required: true, validate: oneOf(FAMILIES) },
                targetModel: {
                    value: 'cosyvoice-v3-flash',
                    // Blank: msg.targetModel may supply it.
                    validate: byFamily(function (v, rules) { return !v || rules[spec.kind].targets.indexOf(v) >= 0; })
                },
                voiceName: {
                    value: spec.voiceName,
                    // Blank: msg.voiceName may supply it.
                    validate: byFamily(function (v, rules) { return !v || new RegExp(rules.voiceName).test(v); })
                },
                action: { value: 'create', validate: oneOf(actions) },
                pollInterval: { value: '10', validate: number(0, 600, { above: true }) },
                pollTimeout: { value: '300', validate: number(0, 3600, { above: true }) }
            },
            behaviour: lib.behaviour(type, {
                label: function () {
                    // The action and the model the voice is for are what differ between two such nodes.
                    if (this.name) { return this.name; }
                    if (this.action && this.action !== 'create') { return this._(type + '.nodeLabel.action', { action: this.action === 'msg' ? 'msg.action' : this.action }); }
                    return this._(type + '.nodeLabel.create', { voice: this.voiceName || 'msg.voiceName', model: this.targetModel || 'msg.targetModel' });
                },
                oneditprepare: function () {
                    if (spec.oneditprepare) { spec.oneditprepare.call(this); }
                    voiceDialog(this, { kind: spec.kind, actions: actions, dependents: spec.dependents, own: spec.own });
                }
            }, spec.rows)
        };
    };

    // ---- imported nodes whose service node is missing -------------------------------------------
    //
    // The examples refer to the service node of the demo flow (id dashscope-tts-config) and carry
    // none of their own, so importing one into the demo raises no conflict. Anywhere else the
    // reference would dangle: when nodes are imported (or pasted), a missing service node is
    // replaced by the only one the workspace has, or, with none, created with that id and the
    // settings of a new one (region Beijing, key from DASHSCOPE_API_KEY). The mending joins
    // the import's history entry, so one Undo takes back both; nodes loaded from the server are
    // left as they are.

    var SERVICE = 'tts-config';
    var pending = [];

    /** The node's properties that refer to a service node. */
    function serviceProps(node) {
        var defaults = (node._def && node._def.defaults) || {};
        return Object.keys(defaults).filter(function (p) { return defaults[p].type === SERVICE; });
    }

    function mendImported() {
        var nodes = pending.filter(function (n) { return RED.nodes.node(n.id) === n; });
        pending = [];
        var services = [];
        RED.nodes.eachConfig(function (c) { if (c.type === SERVICE) { services.push(c); } });
        var events = [];
        var created = {};
        nodes.forEach(function (node) {
            serviceProps(node).forEach(function (prop) {
                var id = node[prop];
                if (blank(id) || (RED.nodes.node(id) && !created[id])) { return; }
                if (services.length === 1) {
                    events.push({ t: 'edit', node: node, changes: (function (c) { c[prop] = id; return c; })({}), changed: node.changed, dirty: RED.nodes.dirty() });
                    node[prop] = services[0].id;
                    services[0].users.push(node);
                } else if (services.length === 0) {
                    if (!created[id]) {
                        var def = RED.nodes.getType(SERVICE);
                        var service = { id: id, type: SERVICE, _def: def, users: [], changed: true, _: def._ };
                        Object.keys(def.defaults).forEach(function (d) { service[d] = JSON.parse(JSON.stringify(def.defaults[d].value)); });
                        created[id] = RED.nodes.add(service);
                        events.unshift({ t: 'add', nodes: [id], dirty: RED.nodes.dirty() });
                        // Every node that names it uses it now (others imported earlier too).
                        RED.nodes.eachNode(function (n) {
                            if (n !== node && serviceProps(n).some(function (p) { return n[p] === id; })) { created[id].users.push(n); RED.editor.validateNode(n); }
                        });
                    }
                    if (created[id].users.indexOf(node) < 0) { created[id].users.push(node); }
                } else {
                    return; // several: the user chooses (the node is marked until then)
                }
                node.changed = true;
                node.dirty = true;
                RED.editor.validateNode(node);
            });
        });
        if (!events.length) { return; }
        // One step with the import: Undo takes back the nodes and what they were bound to at once.
        var imported = RED.history.peek();
        if (imported && nodes.some(function (n) { return addedBy(imported, n.id); })) {
            RED.history.replace({ t: 'multi', events: [imported].concat(events), dirty: imported.dirty });
        } else {
            RED.history.push(events.length === 1 ? events[0] : { t: 'multi', events: events, dirty: events[0].dirty });
        }
        // The service nodes that gained users: the config sidebar counts them.
        var gained = services.length === 1 ? [services[0]] : Object.keys(created).map(function (id) { return created[id]; });
        gained.forEach(function (service) { RED.events.emit('nodes:change', service); });
        RED.nodes.dirty(true);
        RED.view.redraw(true);
    }

    /** Whether the history event (an import's 'add', perhaps inside a 'multi') added the node `id`. */
    function addedBy(event, id) {
        if (event.t === 'multi') { return (event.events || []).some(function (e) { return addedBy(e, id); }); }
        return event.t === 'add' && (event.nodes || []).some(function (n) { return n === id || (n && n.id === id); });
    }

    if (root.RED && RED.events) {
        RED.events.on('nodes:add', function (node) {
            // An import marks its nodes changed (the server's flows are loaded unchanged).
            if (!node.changed || !serviceProps(node).length) { return; }
            if (!pending.length) { setTimeout(mendImported, 0); }
            pending.push(node);
        });
    }
})(this);
