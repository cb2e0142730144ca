package ai.finops.gateway.it;

import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.RawMessageStreamEvent;

/** A Messages stream as the official SDK read it: the accumulated message, and how many tool-input fragments arrived. */
record StreamedMessage(Message message, int inputJsonFragments) {

    /** Reads {@code stream} to its end and closes it. */
    static StreamedMessage read(StreamResponse<RawMessageStreamEvent> stream) {
        try (stream) {
            MessageAccumulator acc = MessageAccumulator.create();
            int[] fragments = {0};
            stream.stream().forEach(e -> {
                acc.accumulate(e);
                if (e.isContentBlockDelta() && e.asContentBlockDelta().delta().isInputJson()) {
                    fragments[0]++;
                }
            });
            return new StreamedMessage(acc.message(), fragments[0]);
        }
    }
}
