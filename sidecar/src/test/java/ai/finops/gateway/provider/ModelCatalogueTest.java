package ai.finops.gateway.provider;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.ProviderType;
import org.junit.jupiter.api.Test;

class ModelCatalogueTest {
    @Test
    void claudeNamesBecomeEachProvidersIds() {
        assertThat(ModelCatalogue.providerId(ProviderType.BEDROCK, "claude-sonnet-4-5", "us-east-1"))
                .isEqualTo("global.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assertThat(ModelCatalogue.providerId(ProviderType.BEDROCK, "claude-3-7-sonnet", "eu-west-1"))
                .isEqualTo("eu.anthropic.claude-3-7-sonnet-20250219-v1:0");
        assertThat(ModelCatalogue.providerId(ProviderType.BEDROCK, "claude-opus-4-1-20250805", "ap-northeast-1"))
                .isEqualTo("apac.anthropic.claude-opus-4-1-20250805-v1:0");
        assertThat(ModelCatalogue.providerId(ProviderType.VERTEX, "claude-haiku-4-5", "global")).isEqualTo("claude-haiku-4-5@20251001");
        assertThat(ModelCatalogue.providerId(ProviderType.VERTEX, "claude-sonnet-4-6", "us-east5")).isEqualTo("claude-sonnet-4-6");
        assertThat(ModelCatalogue.providerId(ProviderType.AZURE, "claude-sonnet-4-5", null)).isEqualTo("claude-sonnet-4-5");
    }

    @Test
    void providerSpecificIdsAndUnknownModelsPassAsTheyAre() {
        assertThat(ModelCatalogue.providerId(ProviderType.BEDROCK, "global.anthropic.claude-haiku-4-6", "us-east-1"))
                .isEqualTo("global.anthropic.claude-haiku-4-6");
        String arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
        assertThat(ModelCatalogue.providerId(ProviderType.BEDROCK, arn, "us-east-1")).isEqualTo(arn);
        assertThat(ModelCatalogue.providerId(ProviderType.VERTEX, "claude-haiku-4-5@20251001", "global")).isEqualTo("claude-haiku-4-5@20251001");
        assertThat(ModelCatalogue.providerId(ProviderType.BEDROCK, "meta.llama3-70b-instruct-v1:0", "us-east-1")).isEqualTo("meta.llama3-70b-instruct-v1:0");
    }

    @Test
    void everySpellingHasOneFamilyName() {
        assertThat(ModelCatalogue.canonical("global.anthropic.claude-haiku-4-5-20251001-v1:0")).isEqualTo("claude-haiku-4-5");
        assertThat(ModelCatalogue.canonical("claude-haiku-4-5@20251001")).isEqualTo("claude-haiku-4-5");
        assertThat(ModelCatalogue.canonical("claude-sonnet-4-5-20250929")).isEqualTo("claude-sonnet-4-5");
        assertThat(ModelCatalogue.canonical("us.anthropic.claude-sonnet-4-6")).isEqualTo("claude-sonnet-4-6");
        assertThat(ModelCatalogue.canonical("claude-sonnet-4-6")).isEqualTo("claude-sonnet-4-6");
    }
}
