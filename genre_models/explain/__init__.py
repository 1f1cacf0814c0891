"""Explanations: why a model gave a genre its probability, for every kind of model in the registry.

- Poster networks: Grad-CAM (Selvaraju et al. 2017). The gradient of the genre's logit (the Dense
  layer's pre-activation, not the sigmoid) with respect to the last convolutional feature map (the
  last Conv2D's output after its batch normalisation / activation, when those follow it), averaged
  per channel, weights the channels; their ReLU'd sum is upsampled to the poster as the user gave
  it (the network resizes it inside) and scaled to [0, 1]. The network runs with ``training=False``,
  so its augmentation and dropout layers are off.
- Text networks: leave-one-word-out occlusion, every variant in one batched call: a word's weight
  is how much the genre's probability falls when the word is removed (negative: it rises). Words are
  the user's own (the overview split on whitespace), so sub-word tokens never show.
- TF-IDF + logistic regression (a TextVectorization in TF-IDF / count mode, an optional unit
  normalisation and one sigmoid Dense layer, whatever its name): the exact linear contribution of
  every n-gram (its normalised TF-IDF value times the Dense weight); a term used several times is
  shared equally between its uses and a bigram half and half between its two words, so the word
  weights (logit units) sum to the logit minus the bias.
- Fused models: the share of the genre's fused probability that came from the poster parts and
  from the overview parts (weight x part probability / sum of those: exactly the share of the fused
  probability when the fusion averages probabilities; each part's relative pull when it averages
  log-odds), the poster parts' heatmaps, occlusion of the fused probability (the fusion recomputed
  with each text part's leave-one-word-out probability), and every part's own explanation.

Everything is computed only when asked, and cached per (model, input, genre) by the ``Explainer``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np

from genre_models.artifacts import LoadedModel
from genre_models.explain.heatmaps import (  # noqa: F401  (hide_pixels, overlay_heatmap: re-exported for pages and tests)
    MAX_HEATMAP_SIDE,
    find_feature_map,
    heatmap_size,
    hide_pixels,
    overlay_heatmap,
    sigmoid_dense_output,
    upsample_heatmap,
)
from genre_models.explain.results import (  # noqa: F401  (re-exported)
    METHOD_FUSION,
    METHOD_GRAD_CAM,
    METHOD_LINEAR,
    METHOD_OCCLUSION,
    UNIT_LOGIT,
    UNIT_PROBABILITY,
    Explanation,
    PartShare,
)
from genre_models.explain.words import (  # noqa: F401  (remove_words: re-exported for the benchmark)
    count_words_read,
    linear_text_parts,
    ngram_widths,
    occlusion_variants,
    remove_words,
    split_words,
    standardize_words,
    term_occurrences,
)
from genre_models.fusion import fuse_scores
from genre_models.inputs import (
    OVERVIEW,
    POSTER,
    fingerprint_poster,
    prepare_overview,
    prepare_poster,
)

# Text variants scored per model call (an overview has at most 68 words in the dataset: one call).
OCCLUSION_BATCH = 128
# Explanations (and occlusion results) kept per Explainer.
CACHE_ENTRIES = 128


# --- Words ------------------------------------------------------------------------------------------------------


# --- Posters ----------------------------------------------------------------------------------------------------


# --- Network internals ------------------------------------------------------------------------------------------


# --- The explainer ----------------------------------------------------------------------------------------------

class Explainer:
    """Explains any loaded model (networks and fusions), caching per (model, input, genre).

    ``models``: every model that may be explained, fused models' parts included (a
    GenrePredictor's ``models``). Safe to share between threads (the app's sessions).
    """

    def __init__(self, models: Iterable[LoadedModel]):
        self._by_name = {loaded.name: loaded for loaded in models}
        self._lock = threading.RLock()
        self._functions: dict[tuple, object] = {}
        self._cache: OrderedDict = OrderedDict()

    # Models and genres ---------------------------------------------------------------------------------------

    def get(self, name: str) -> LoadedModel:
        """Return a model by name, or raise ValueError naming the available ones."""
        if name not in self._by_name:
            raise ValueError(f"No model named {name!r}; available: {', '.join(sorted(self._by_name)) or 'none'}.")
        return self._by_name[name]

    @staticmethod
    def genre_index(loaded: LoadedModel, genre: str) -> int:
        """Return a genre's column (exact name, else case-insensitive), or raise ValueError listing them."""
        if genre in loaded.genres:
            return loaded.genres.index(genre)
        folded = [name.casefold() for name in loaded.genres]
        if str(genre).casefold() in folded:
            return folded.index(str(genre).casefold())
        raise ValueError(f"{loaded.name} has no genre {genre!r}; its genres: {', '.join(loaded.genres)}.")

    # Inputs --------------------------------------------------------------------------------------------------

    def prepare(self, loaded: LoadedModel, poster=None, overview: str | None = None
                ) -> tuple[np.ndarray | None, str | None]:
        """Return the inputs a model reads (decoded poster, trimmed overview), or raise ValueError
        saying which one is missing."""
        needs = loaded.input_kinds
        missing = [kind for kind, value in ((POSTER, poster), (OVERVIEW, overview)) if kind in needs and value is None]
        if missing:
            raise ValueError(f"{loaded.name} reads {' and '.join(sorted(needs))}; give "
                             f"{' and '.join('a ' + ('poster' if kind == POSTER else 'summary') for kind in missing)}.")
        pixels = prepare_poster(poster) if POSTER in needs else None
        text = prepare_overview(overview)[0] if OVERVIEW in needs else None
        return pixels, text

    # Cache ---------------------------------------------------------------------------------------------------

    def _cached(self, key, compute: Callable):
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value

    def _peek(self, key):
        with self._lock:
            return self._cache.get(key)

    def clear_cache(self) -> None:
        """Forget every cached explanation (the traced functions are kept)."""
        with self._lock:
            self._cache.clear()

    # Traced functions ----------------------------------------------------------------------------------------

    def _function(self, key: tuple, build: Callable):
        with self._lock:
            if key not in self._functions:
                self._functions[key] = build()
            return self._functions[key]

    def _network_call(self, loaded: LoadedModel):
        """Return a traced function: a batch of the network's raw inputs -> probabilities."""
        import tensorflow as tf

        def build():
            from genre_models.scoring import make_network_call

            spec = (tf.TensorSpec([None, None, None, 3], tf.uint8) if loaded.input_kind == POSTER
                    else tf.TensorSpec([None, 1], tf.string))
            # The predictor's own call: course_lstm steps only to the batch's last real token.
            return tf.function(make_network_call(loaded.model), input_signature=[spec])

        return self._function(("call", loaded.name), build)

    def _grad_cam_call(self, loaded: LoadedModel):
        """Return a traced function (poster batch of one, genre index or -1 for the top genre) ->
        (coarse Grad-CAM map, probabilities, explained index)."""
        import keras
        import tensorflow as tf

        def build():
            model = loaded.model
            features = find_feature_map(model)
            bottom = keras.Model(model.inputs, features)
            dense = sigmoid_dense_output(model)
            head = keras.Model(features, dense.input if dense is not None else model.outputs[0])

            def run(poster, index):
                feature_map = bottom(poster, training=False)
                with tf.GradientTape(watch_accessed_variables=False) as tape:
                    tape.watch(feature_map)
                    out = head(feature_map, training=False)
                    if dense is not None:
                        logits = tf.matmul(out, dense.kernel) + (dense.bias if dense.use_bias else 0.0)
                        probabilities = tf.sigmoid(logits)
                    else:  # A probability output: its logit is log(p / (1 - p)).
                        probabilities = tf.clip_by_value(out, 1e-7, 1 - 1e-7)
                        logits = tf.math.log(probabilities) - tf.math.log1p(-probabilities)
                    chosen = tf.where(index < 0, tf.cast(tf.argmax(probabilities[0]), tf.int32), index)
                    target = logits[0, chosen]
                gradients = tape.gradient(target, feature_map)
                channel_weights = tf.reduce_mean(gradients, axis=[1, 2])
                cam = tf.nn.relu(tf.reduce_sum(feature_map * channel_weights[:, None, None, :], axis=-1))
                return cam[0], probabilities[0], chosen

            return tf.function(run, input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8),
                                                     tf.TensorSpec([], tf.int32)])

        return self._function(("grad_cam", loaded.name), build)

    def _linear_call(self, loaded: LoadedModel):
        """Return (traced text -> (term values, features the Dense layer reads), vocabulary index,
        n-gram widths, standardisation, Dense kernel, Dense bias) for an exact linear text model."""
        import keras
        import tensorflow as tf

        def build():
            model = loaded.model
            vectorize, dense = linear_text_parts(model)
            inner = keras.Model(model.inputs, [vectorize.output, dense.input])
            config = vectorize.get_config()
            function = tf.function(lambda texts: inner(texts, training=False),
                                   input_signature=[tf.TensorSpec([None, 1], tf.string)])
            vocabulary = {str(term): index for index, term in enumerate(vectorize.get_vocabulary())}
            kernel = np.asarray(dense.kernel, dtype=np.float64)
            bias = np.asarray(dense.bias, dtype=np.float64) if dense.use_bias else np.zeros(kernel.shape[1])
            return function, vocabulary, ngram_widths(config.get("ngrams")), config.get("standardize"), kernel, bias

        return self._function(("linear", loaded.name), build)

    # Probabilities -------------------------------------------------------------------------------------------

    def score(self, loaded: LoadedModel, inputs) -> np.ndarray:
        """Return a network's probabilities for a batch of prepared inputs (posters of one size, or texts)."""
        import tensorflow as tf

        if loaded.input_kind == POSTER:
            tensor = tf.convert_to_tensor(np.asarray(inputs, dtype=np.uint8))
        else:
            tensor = tf.constant([[str(text)] for text in inputs], dtype=tf.string)
        return np.asarray(self._network_call(loaded)(tensor), dtype=np.float64)

    def probabilities(self, name: str, poster=None, overview: str | None = None) -> np.ndarray:
        """Return any model's probabilities for one input (a fusion's from its parts)."""
        loaded = self.get(name)
        pixels, text = self.prepare(loaded, poster, overview)
        return self._probabilities(loaded, pixels, text)

    def _probabilities(self, loaded: LoadedModel, pixels, text) -> np.ndarray:
        if loaded.is_fusion:
            return fuse_scores([weight for _, weight in loaded.parts],
                               [self._probabilities(self.get(part), pixels, text) for part, _ in loaded.parts],
                               loaded.combine)
        if loaded.input_kind == POSTER:
            return self.score(loaded, pixels[None])[0]
        occluded = self._peek(("occlusion", loaded.name, text))
        return occluded[0] if occluded is not None else self.score(loaded, [text])[0]

    def _occlusion(self, loaded: LoadedModel, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Return (probabilities of the whole text, probability drop per word and genre, how many of
        the first words the network reads) for a text network: the text and a leave-one-word-out
        variant per word it reads, scored in batches of OCCLUSION_BATCH. Words after those it reads
        (count_words_read) change nothing when removed: their drop is 0 without scoring them."""

        def compute():
            spans = split_words(text)[1]
            # Probing costs a few calls of one text: worth it only when the variants need more than one batch.
            read = (count_words_read(lambda texts: self.score(loaded, texts), text, spans)
                    if len(spans) >= OCCLUSION_BATCH else len(spans))
            variants = occlusion_variants(text, spans[:read])
            scores = np.concatenate([self.score(loaded, variants[start:start + OCCLUSION_BATCH])
                                     for start in range(0, len(variants), OCCLUSION_BATCH)])
            drops = np.zeros((len(spans), scores.shape[1]), dtype=scores.dtype)
            drops[:read] = scores[0][None, :] - scores[1:]
            return scores[0], drops, read

        return self._cached(("occlusion", loaded.name, text), compute)

    # Explanations --------------------------------------------------------------------------------------------

    def explain(self, name: str, poster=None, overview: str | None = None, genre: str | None = None) -> Explanation:
        """Explain one model's probability for a genre (default: the model's top genre for this input).

        ``poster``: anything inputs.prepare_poster takes (pixels, PIL image, encoded bytes);
        ``overview``: the summary text. Only the inputs the model reads are needed (and used).
        Raises ValueError for an unknown model or genre, or a missing input.
        """
        loaded = self.get(name)
        pixels, text = self.prepare(loaded, poster, overview)
        if genre is None:
            index = int(np.argmax(self._probabilities(loaded, pixels, text)))
        else:
            index = self.genre_index(loaded, genre)
        return self._explain(loaded, pixels, text, index)

    def _explain(self, loaded: LoadedModel, pixels, text, index: int) -> Explanation:
        key = ("explanation", loaded.name, fingerprint_poster(pixels), text, index)
        if loaded.is_fusion:
            return self._cached(key, lambda: self._explain_fusion(loaded, pixels, text, index))
        if loaded.input_kind == POSTER:
            return self._cached(key, lambda: self._explain_poster(loaded, pixels, index))
        return self._cached(key, lambda: self._explain_text(loaded, text, index))

    def _explain_poster(self, loaded: LoadedModel, pixels: np.ndarray, index: int) -> Explanation:
        import tensorflow as tf

        cam, probabilities, _ = self._grad_cam_call(loaded)(tf.convert_to_tensor(pixels[None]),
                                                            tf.constant(index, tf.int32))
        heatmap = upsample_heatmap(cam.numpy(), heatmap_size(*pixels.shape[:2]))
        notes = [] if heatmap.max() > 0 else [
            "No part of the poster raises this genre's score (the Grad-CAM map is zero everywhere)."]
        return Explanation(model=loaded.name, input_kind=loaded.input_kind, genre=loaded.genres[index],
                           probability=float(probabilities.numpy()[index]), method=METHOD_GRAD_CAM,
                           heatmap=heatmap, notes=notes)

    def _explain_text(self, loaded: LoadedModel, text: str, index: int) -> Explanation:
        words, spans = split_words(text)
        explanation = Explanation(model=loaded.name, input_kind=loaded.input_kind, genre=loaded.genres[index],
                                  probability=0.0, method=METHOD_OCCLUSION, text=text, words=words, spans=spans)
        if self._function(("is_linear", loaded.name), lambda: linear_text_parts(loaded.model) is not None):
            exact = self._linear_contributions(loaded, text, words, index)
            if exact is not None:
                explanation.weights, explanation.logit, explanation.bias, probability = exact
                explanation.probability, explanation.method, explanation.weight_unit = (
                    probability, METHOD_LINEAR, UNIT_LOGIT)
                return explanation
            explanation.notes.append("The exact TF-IDF contributions could not be matched to the words; "
                                     "occlusion is shown instead.")
        full, drops, read = self._occlusion(loaded, text)
        explanation.probability, explanation.weights = float(full[index]), drops[:, index].astype(np.float64)
        explanation.weight_unit = UNIT_PROBABILITY
        if read < len(words):
            explanation.notes.append(f"{loaded.name} reads only the first {read} of the {len(words)} words (its "
                                     "input has a fixed length); the words after them carry no weight.")
        return explanation

    def _linear_contributions(self, loaded: LoadedModel, text: str, words: list[str], index: int):
        """Return (word weights, logit, bias, probability) of an exact linear text model, or None
        when its n-grams cannot be matched to the words (a custom standardisation, say)."""
        import tensorflow as tf

        function, vocabulary, widths, standardize, kernel, bias = self._linear_call(loaded)
        values, features = (np.asarray(array, dtype=np.float64)[0] for array in function(tf.constant([[text]])))
        occurrences = term_occurrences(standardize_words(words, standardize), widths)
        by_term: dict[int, list[tuple[int, ...]]] = {}
        for term, span in occurrences:
            by_term.setdefault(vocabulary.get(term, 0), []).append(span)
        if set(np.flatnonzero(values)) != {term for term in by_term if values[term] != 0}:
            return None
        # The Dense layer reads every term's value, or every one but the out-of-vocabulary column 0
        # (models.build_tfidf_logreg drops it): then term t is its input t - 1, and column 0 adds nothing.
        offset = len(values) - len(features)
        contributions = np.concatenate([np.zeros(offset), features * kernel[:, index]])
        weights = np.zeros(len(words), dtype=np.float64)
        for term, spans in by_term.items():
            for span in spans:
                for word in span:
                    weights[word] += contributions[term] / len(spans) / len(span)
        logit = float(features @ kernel[:, index] + bias[index])
        return weights, logit, float(bias[index]), float(1 / (1 + np.exp(-logit)))

    def _explain_fusion(self, loaded: LoadedModel, pixels, text, index: int) -> Explanation:
        parts = [(self.get(name), weight) for name, weight in loaded.parts]
        part_explanations = [self._explain(part, pixels if part.input_kind == POSTER else None,
                                           text if part.input_kind == OVERVIEW else None, index)
                             for part, _ in parts]
        weights = [weight for _, weight in parts]
        part_probabilities = [explanation.probability for explanation in part_explanations]
        fused = float(fuse_scores(weights, part_probabilities, loaded.combine))
        contributions = [weight * probability for weight, probability in zip(weights, part_probabilities)]
        total = sum(contributions)
        shares = [contribution / total if total > 0 else weight for contribution, weight in zip(contributions, weights)]
        explanation = Explanation(
            model=loaded.name, input_kind=loaded.input_kind, genre=loaded.genres[index], probability=fused,
            method=METHOD_FUSION, part_explanations=part_explanations, combine=loaded.combine,
            parts=[PartShare(part.name, part.input_kind, float(weight), float(part_explanation.probability),
                             float(share))
                   for (part, weight), part_explanation, share in zip(parts, part_explanations, shares)])
        poster_parts = [(contribution, part_explanation.heatmap) for contribution, part_explanation
                        in zip(contributions, part_explanations) if part_explanation.heatmap is not None]
        if poster_parts:
            total = sum(contribution for contribution, _ in poster_parts)
            combined = sum((contribution / total if total > 0 else 1 / len(poster_parts)) * heatmap
                           for contribution, heatmap in poster_parts)
            peak = float(combined.max())
            explanation.heatmap = (combined / peak if peak > 0 else combined).astype(np.float32)
        if any(part.input_kind == OVERVIEW for part, _ in parts):
            # Removing a word changes every text part at once; the poster parts' scores stay: the
            # fusion is recomputed with each text part's probability without the word (for a mean
            # of probabilities, the drop is the weighted sum of the text parts' drops).
            explanation.text = text
            explanation.words, explanation.spans = split_words(text)
            without_word = [probability - self._occlusion(part, text)[1][:, index] if part.input_kind == OVERVIEW
                            else np.full(len(explanation.words), probability)
                            for (part, _), probability in zip(parts, part_probabilities)]
            explanation.weights = fused - fuse_scores(weights, without_word, loaded.combine)
            explanation.weight_unit = UNIT_PROBABILITY
        return explanation
