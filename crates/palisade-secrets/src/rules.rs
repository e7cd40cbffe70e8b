//! The built-in rule registry: the one place rules are defined.
//!
//! Every rule was written for Palisade from the token formats that providers publish (prefixes, lengths,
//! alphabets, checksums) or, for formats without a prefix, from the variable names such keys are commonly
//! stored under. Each rule has a positive and a negative example in `tests/fixtures/rule_examples.txt`; a
//! unit test checks every rule against them.
//!
//! Conventions: `keywords` are lower-case literals that occur in (or right next to) every match; `pattern`
//! captures the secret in a group named `s` or in its first participating group; a group named `k`
//! captures the variable name of generic assignments, which is checked against names that are not secrets
//! (`..._id`, `public_key`, `..._url`, ...).

use crate::rule::{Checksum, Detector, Redact, Rule};
use palisade_core::findings::secret::Severity;

macro_rules! rule {
    ($id:literal, $sev:ident, $title:literal, $doc:literal, [$($kw:literal),* $(,)?], $pat:expr $(, $f:ident = $v:expr)* $(,)?) => {
        Rule {
            id: $id,
            title: $title,
            doc: $doc,
            severity: Severity::$sev,
            keywords: &[$($kw),*],
            pattern: $pat,
            $($f: $v,)*
            ..Rule::BASE
        }
    };
}

/// A provider-keyword-anchored assignment: `<name containing kw> [:=] <value>`, value in group `s`. The
/// keyword must start a word (`MY_OKTA_TOKEN` yes, `rookTable` no).
macro_rules! ctx {
    ($kw:literal, $val:literal) => {
        concat!(
            r#"(?:^|[^A-Za-z])(?i:"#,
            $kw,
            r#")[\w.\- ]{0,30}?["'\]]?\s*(?:[:=]{1,4}|=>|\?=)\s*["'`]?(?P<s>"#,
            $val,
            r#")(?:[^A-Za-z0-9_\-]|$)"#
        )
    };
}

/// Trailing boundary for tokens whose alphabet includes `-`.
macro_rules! tok {
    ($body:literal) => {
        concat!(r#"(?:^|[^A-Za-z0-9_\-])(?P<s>"#, $body, r#")(?:[^A-Za-z0-9_\-]|$)"#)
    };
}

/// Rules that match a context (a header, an assignment) rather than a token format. When one of them
/// matches the same bytes as a format-specific rule, only the specific finding is kept.
pub const BROAD: &[&str] = &[
    "generic-password",
    "generic-api-key",
    "bearer-token-header",
    "http-auth-header",
    "basic-auth-header",
    "kubeconfig-token",
    "curl-basic-auth",
    "docker-config-auth",
    "connection-string-password",
    "url-credentials",
    "jdbc-url-password",
];

/// Every built-in rule. Use [`crate::rules()`] to list them.
pub static RULES: &[Rule] = &[
    // ----------------------------------------------------------------- AWS
    rule!(
        "aws-access-key-id",
        Critical,
        "AWS access key ID",
        "AWS IAM access key ids: `AKIA` (long-term) or `ASIA` (STS), `ABIA`, `ACCA`, then 16 base32 characters. AWS's documented example keys (`AKIAIOSFODNN7EXAMPLE`, `AKIAEXAMPLE...`: `EXAMPLE` anywhere) are allowed.",
        ["akia", "asia", "abia", "acca"],
        r#"\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b"#,
        allow = &[r"EXAMPLE"]
    ),
    rule!(
        "aws-secret-access-key",
        Critical,
        "AWS secret access key",
        "40-character base64 secret assigned to a name mentioning AWS and secret.",
        ["aws"],
        r#"(?i:aws)[\w.\-]{0,20}?(?i:secret|sk)[\w.\-]{0,20}?["']?\s*(?:[:=]{1,2}|=>)\s*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#,
        entropy = Some(4.0)
    ),
    rule!(
        "aws-session-token",
        High,
        "AWS session token",
        "Temporary STS session token (long base64) assigned to `aws_session_token`/`AWS_SESSION_TOKEN`.",
        ["session_token", "sessiontoken"],
        r#"(?i:aws_?session_?token)["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9/+=]{100,})"#
    ),
    rule!(
        "aws-bedrock-api-key-long-lived",
        Critical,
        "Amazon Bedrock long-term API key",
        "`ABSK` followed by base64 whose decoded text starts `BedrockAPIKey-`.",
        ["absk"],
        r#"\b(?P<s>ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{80,400}={0,2})"#,
        entropy = Some(4.0)
    ),
    rule!(
        "aws-bedrock-api-key-short-lived",
        High,
        "Amazon Bedrock short-term API key",
        "`bedrock-api-key-` followed by base64 of `bedrock.amazonaws.com` and a presigned token.",
        ["bedrock-api-key-"],
        r#"(?P<s>bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%&?.\-]*)"#
    ),
    rule!(
        "aws-mws-auth-token",
        High,
        "Amazon MWS auth token",
        "Amazon Marketplace Web Service auth token: `amzn.mws.` and a UUID.",
        ["amzn.mws."],
        r#"(?P<s>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"#
    ),
    // ----------------------------------------------------------------- Google Cloud
    rule!(
        "gcp-api-key",
        High,
        "Google API key",
        "Google Cloud / Firebase API keys: `AIza` then 35 characters of `[0-9A-Za-z_-]`.",
        ["aiza"],
        tok!(r#"AIza[0-9A-Za-z_\-]{35}"#),
        entropy = Some(3.8)
    ),
    rule!(
        "gcp-service-account",
        Critical,
        "Google Cloud service account key file",
        "A service-account JSON key file (`\"type\": \"service_account\"`); such files embed a private key.",
        ["service_account"],
        r#"(?P<s>"type"\s*:\s*"service_account")"#
    ),
    rule!(
        "gcp-oauth-client-secret",
        High,
        "Google OAuth client secret",
        "Google OAuth client secrets: `GOCSPX-` and 28 characters.",
        ["gocspx-"],
        tok!(r#"GOCSPX-[A-Za-z0-9_\-]{28}"#)
    ),
    rule!(
        "gcp-oauth-access-token",
        Medium,
        "Google OAuth access token",
        "Google OAuth 2.0 access tokens start with `ya29.`.",
        ["ya29."],
        tok!(r#"ya29\.[0-9A-Za-z_\-]{30,}"#),
        entropy = Some(4.0)
    ),
    rule!(
        "gcp-oauth-refresh-token",
        High,
        "Google OAuth refresh token",
        "Google OAuth 2.0 refresh tokens start with `1//0` followed by a long URL-safe string.",
        ["1//0"],
        r#"(?:^|[^\w/])(?P<s>1//0[0-9A-Za-z_\-]{40,})"#,
        entropy = Some(4.0)
    ),
    // ----------------------------------------------------------------- Azure
    rule!(
        "azure-ad-client-secret",
        High,
        "Azure AD (Entra ID) client secret",
        "Entra ID application secrets: three characters, a digit, `Q~`, then 31-34 characters of `[A-Za-z0-9_~.-]`.",
        ["q~"],
        r#"(?:^|[^A-Za-z0-9_~.\-])(?P<s>[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)"#,
        entropy = Some(3.5)
    ),
    rule!(
        "azure-storage-account-key",
        Critical,
        "Azure storage account key",
        "`AccountKey=` in a storage connection string: 86 base64 characters and `==`.",
        ["accountkey"],
        r#"(?i:accountkey)\s*=\s*(?P<s>[A-Za-z0-9+/]{86}==)"#
    ),
    rule!(
        "azure-sas-token",
        High,
        "Azure shared access signature",
        "SAS query strings: `sv=<date>` ... `sig=<url-encoded base64 HMAC>`.",
        ["sig="],
        r#"sv=\d{4}-\d{2}-\d{2}&[^\s"'<>]{0,300}?sig=(?P<s>[A-Za-z0-9%+/]{40,}(?:%3D|=){0,2})"#
    ),
    rule!(
        "azure-devops-pat",
        Critical,
        "Azure DevOps personal access token",
        "New-format (84 character) Azure DevOps PATs carry the `JQQJ99` identifiable-secret signature and `AZDO`.",
        ["azdo"],
        r#"\b(?P<s>[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{18}AZDO[A-Za-z0-9]{4})\b"#
    ),
    rule!(
        "azure-devops-pat-legacy",
        High,
        "Azure DevOps personal access token (legacy)",
        "Legacy Azure DevOps PATs: 52 lower-case base32 characters assigned to a name mentioning Azure DevOps/ADO/VSTS.",
        ["devops", "ado", "vsts"],
        ctx!(r#"azure_?devops|ado_?pat|vsts|ado_?token"#, r#"[a-z2-7]{52}"#)
    ),
    // ----------------------------------------------------------------- Alibaba, DigitalOcean, Oracle, IBM
    rule!(
        "alibaba-access-key-id",
        High,
        "Alibaba Cloud AccessKey ID",
        "Alibaba Cloud AccessKey ids start with `LTAI` followed by 12-20 alphanumerics.",
        ["ltai"],
        r#"\b(?P<s>LTAI[A-Za-z0-9]{12,20})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "alibaba-secret-key",
        Critical,
        "Alibaba Cloud AccessKey secret",
        "30-character AccessKey secret assigned to a name mentioning Alibaba/Aliyun.",
        ["alibaba", "aliyun", "alicloud"],
        ctx!(r#"alibaba|aliyun|alicloud"#, r#"[A-Za-z0-9]{30}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "digitalocean-pat",
        Critical,
        "DigitalOcean personal access token",
        "`dop_v1_` and 64 hex characters.",
        ["dop_v1_"],
        r#"\b(?P<s>dop_v1_[a-f0-9]{64})\b"#
    ),
    rule!(
        "digitalocean-oauth-token",
        High,
        "DigitalOcean OAuth access token",
        "`doo_v1_` and 64 hex characters.",
        ["doo_v1_"],
        r#"\b(?P<s>doo_v1_[a-f0-9]{64})\b"#
    ),
    rule!(
        "digitalocean-refresh-token",
        High,
        "DigitalOcean OAuth refresh token",
        "`dor_v1_` and 64 hex characters.",
        ["dor_v1_"],
        r#"\b(?P<s>dor_v1_[a-f0-9]{64})\b"#
    ),
    rule!(
        "oracle-oci-customer-secret-key",
        High,
        "Oracle Cloud customer secret key",
        "OCI S3-compatible customer secret keys (44 base64 characters) assigned to a name mentioning OCI/Oracle and secret.",
        ["oci", "oracle"],
        r#"(?i:oci|oracle)[\w.\-]{0,30}?(?i:secret)[\w.\-]{0,20}?["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9/+]{43}=)"#,
        entropy = Some(4.0)
    ),
    rule!(
        "oracle-oci-auth-token",
        High,
        "Oracle Cloud auth token",
        "OCI auth tokens (20 printable characters) assigned to a name mentioning OCI/Oracle and auth token.",
        ["oci", "oracle"],
        r#"(?i:oci|oracle)[\w.\-]{0,20}?(?i:auth_?token)["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9()+\-.;:\[\]{}<>_#]{20})(?:["'\s]|$)"#,
        entropy = Some(3.5)
    ),
    rule!(
        "ibm-cloud-api-key",
        Critical,
        "IBM Cloud API key",
        "IBM Cloud IAM API keys: 44 characters of `[A-Za-z0-9_-]` assigned to a name mentioning IBM/Bluemix/IAM and API key.",
        ["ibm", "bluemix", "iam"],
        r#"(?i:ibm|bluemix|ic_|iam)[\w.\-]{0,20}?(?i:api_?key)["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9_\-]{44})(?:[^A-Za-z0-9_\-]|$)"#,
        entropy = Some(3.5)
    ),
    rule!(
        "ibm-cos-hmac-secret",
        High,
        "IBM Cloud Object Storage HMAC secret",
        "48 hex character HMAC secret access key next to an IBM/COS name.",
        ["ibm", "cos_"],
        r#"(?i:ibm|cos)[\w.\-]{0,20}?(?i:secret_?access_?key)["']?\s*[:=]\s*["']?(?P<s>[a-f0-9]{48})\b"#
    ),
    // ----------------------------------------------------------------- GitHub
    rule!(
        "github-pat",
        Critical,
        "GitHub personal access token",
        "`ghp_`, 30 base62 characters and a 6-character base62 CRC-32 checksum (verified).",
        ["ghp_"],
        r#"\b(?P<s>ghp_[A-Za-z0-9]{36})\b"#,
        checksum = Some(Checksum::Crc32Base62 { prefix_len: 4 })
    ),
    rule!(
        "github-oauth-token",
        Critical,
        "GitHub OAuth access token",
        "`gho_` token with CRC-32 checksum (verified).",
        ["gho_"],
        r#"\b(?P<s>gho_[A-Za-z0-9]{36})\b"#,
        checksum = Some(Checksum::Crc32Base62 { prefix_len: 4 })
    ),
    rule!(
        "github-user-to-server-token",
        Critical,
        "GitHub App user-to-server token",
        "`ghu_` token with CRC-32 checksum (verified).",
        ["ghu_"],
        r#"\b(?P<s>ghu_[A-Za-z0-9]{36})\b"#,
        checksum = Some(Checksum::Crc32Base62 { prefix_len: 4 })
    ),
    rule!(
        "github-server-to-server-token",
        High,
        "GitHub App installation token",
        "`ghs_` token with CRC-32 checksum (verified).",
        ["ghs_"],
        r#"\b(?P<s>ghs_[A-Za-z0-9]{36})\b"#,
        checksum = Some(Checksum::Crc32Base62 { prefix_len: 4 })
    ),
    rule!(
        "github-refresh-token",
        High,
        "GitHub refresh token",
        "`ghr_` followed by 36-76 base62 characters.",
        ["ghr_"],
        r#"\b(?P<s>ghr_[A-Za-z0-9]{36,76})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "github-fine-grained-pat",
        Critical,
        "GitHub fine-grained personal access token",
        "`github_pat_`, 22 characters, `_`, 59 characters.",
        ["github_pat_"],
        r#"\b(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "github-legacy-token",
        High,
        "GitHub token (legacy 40 hex)",
        "Pre-2021 GitHub OAuth/PAT tokens: 40 hex characters assigned to a name mentioning GitHub.",
        ["github"],
        ctx!(r#"github"#, r#"[a-f0-9]{40}"#),
        entropy = Some(3.0)
    ),
    // ----------------------------------------------------------------- GitLab
    rule!(
        "gitlab-pat",
        Critical,
        "GitLab personal access token",
        "`glpat-` followed by 20 characters (classic) or a longer routable token `glpat-<payload>.<version>.<crc>`.",
        ["glpat-"],
        tok!(r#"glpat-[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]{2}\.[a-z0-9]{7,9})?"#),
        entropy = Some(3.0)
    ),
    rule!(
        "gitlab-pipeline-trigger-token",
        High,
        "GitLab pipeline trigger token",
        "`glptt-` and 40 hex characters.",
        ["glptt-"],
        tok!(r#"glptt-[a-f0-9]{40}"#)
    ),
    rule!(
        "gitlab-runner-registration-token",
        High,
        "GitLab runner registration token",
        "Runner registration tokens start with `GR1348941` followed by 20 characters.",
        ["gr1348941"],
        tok!(r#"GR1348941[A-Za-z0-9_\-]{20}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "gitlab-runner-auth-token",
        High,
        "GitLab runner authentication token",
        "`glrt-` followed by 20+ characters.",
        ["glrt-"],
        tok!(r#"glrt-[A-Za-z0-9_.\-]{20,}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "gitlab-deploy-token",
        High,
        "GitLab deploy token",
        "`gldt-` followed by 20+ characters.",
        ["gldt-"],
        tok!(r#"gldt-[A-Za-z0-9_\-]{20,}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "gitlab-feed-token",
        Medium,
        "GitLab feed token",
        "`glft-` followed by 20 characters.",
        ["glft-"],
        tok!(r#"glft-[A-Za-z0-9_\-]{20}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "gitlab-oauth-app-secret",
        High,
        "GitLab OAuth application secret",
        "`gloas-` followed by 64 characters.",
        ["gloas-"],
        tok!(r#"gloas-[A-Za-z0-9_\-]{64}"#)
    ),
    rule!(
        "gitlab-scim-token",
        High,
        "GitLab SCIM token",
        "`glsoat-` followed by 20 characters.",
        ["glsoat-"],
        tok!(r#"glsoat-[A-Za-z0-9_\-]{20}"#)
    ),
    rule!(
        "gitlab-cicd-job-token",
        Medium,
        "GitLab CI/CD job token",
        "`glcbt-`, a short id, `_` and 20 characters.",
        ["glcbt-"],
        tok!(r#"glcbt-[0-9a-zA-Z]{1,5}_[0-9a-zA-Z_\-]{20}"#)
    ),
    rule!(
        "gitlab-incoming-mail-token",
        Medium,
        "GitLab incoming mail token",
        "`glimt-` followed by 25 characters.",
        ["glimt-"],
        tok!(r#"glimt-[A-Za-z0-9_\-]{25}"#)
    ),
    rule!(
        "gitlab-agent-token",
        High,
        "GitLab Kubernetes agent token",
        "`glagent-` followed by 50 characters.",
        ["glagent-"],
        tok!(r#"glagent-[A-Za-z0-9_\-]{50}"#)
    ),
    rule!(
        "gitlab-feature-flag-client-token",
        Low,
        "GitLab feature flags client token",
        "`glffct-` followed by 20 characters.",
        ["glffct-"],
        tok!(r#"glffct-[A-Za-z0-9_\-]{20}"#)
    ),
    rule!(
        "gitlab-session-cookie",
        Medium,
        "GitLab session cookie",
        "`_gitlab_session=` and 32 hex characters.",
        ["_gitlab_session="],
        r#"_gitlab_session=(?P<s>[0-9a-z]{32})\b"#
    ),
    // ----------------------------------------------------------------- Bitbucket, Atlassian
    rule!(
        "bitbucket-app-password",
        High,
        "Bitbucket app password / API token",
        "Bitbucket app passwords and API tokens start with `ATBB`.",
        ["atbb"],
        r#"\b(?P<s>ATBB[A-Za-z0-9_=.\-]{28,40})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "bitbucket-client-secret",
        High,
        "Bitbucket OAuth consumer secret",
        "32-64 character secret assigned to a name mentioning Bitbucket and secret.",
        ["bitbucket"],
        r#"(?i:bitbucket)[\w.\-]{0,20}?(?i:secret)[\w.\-]{0,10}?["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9_=\-]{32,64})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "atlassian-api-token",
        High,
        "Atlassian API token",
        "Atlassian cloud API tokens: `ATATT3` followed by ~180 characters ending in an 8 hex checksum.",
        ["atatt3"],
        r#"\b(?P<s>ATATT3[A-Za-z0-9_\-=]{150,250})"#
    ),
    rule!(
        "atlassian-legacy-api-token",
        High,
        "Atlassian API token (legacy)",
        "Legacy 24-character Jira/Confluence API tokens assigned to a name mentioning Atlassian/Jira/Confluence.",
        ["atlassian", "jira", "confluence"],
        ctx!(r#"atlassian|jira|confluence"#, r#"[A-Za-z0-9]{24}"#),
        entropy = Some(3.5)
    ),
    // ----------------------------------------------------------------- Slack
    rule!(
        "slack-bot-token",
        High,
        "Slack bot token",
        "`xoxb-`, two numeric ids and a random part (24 characters in Slack's documentation; longer ones are issued too).",
        ["xoxb-"],
        r#"\b(?P<s>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,40})\b"#
    ),
    rule!(
        "slack-legacy-bot-token",
        High,
        "Slack legacy bot token",
        "`xoxb-`, a numeric id and 18-26 characters.",
        ["xoxb-"],
        r#"\b(?P<s>xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26})\b"#
    ),
    rule!(
        "slack-user-token",
        High,
        "Slack user token",
        "`xoxp-`/`xoxe-`, three numeric ids and 32 hex characters.",
        ["xoxp-", "xoxe-"],
        r#"\b(?P<s>xox[pe]-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[a-f0-9]{32})\b"#
    ),
    rule!(
        "slack-app-token",
        High,
        "Slack app-level token",
        "`xapp-<n>-<app id>-<digits>-<hex>`.",
        ["xapp-"],
        r#"\b(?P<s>xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,})\b"#
    ),
    rule!(
        "slack-config-access-token",
        High,
        "Slack configuration access token",
        "`xoxe.xoxp-1-` / `xoxe.xoxb-1-` and ~165 characters.",
        ["xoxe.xox"],
        r#"\b(?P<s>xoxe\.xox[bp]-\d-[A-Za-z0-9]{160,170})\b"#
    ),
    rule!(
        "slack-config-refresh-token",
        High,
        "Slack configuration refresh token",
        "`xoxe-1-` and ~146 characters.",
        ["xoxe-"],
        r#"\b(?P<s>xoxe-\d-[A-Za-z0-9]{140,150})\b"#
    ),
    rule!(
        "slack-legacy-workspace-token",
        High,
        "Slack legacy workspace token",
        "`xoxa-`/`xoxr-` tokens.",
        ["xoxa-", "xoxr-"],
        r#"\b(?P<s>xox[ar]-\d+-[0-9]+-[0-9]+-[0-9]+-[a-f0-9]{10,64})\b"#
    ),
    rule!(
        "slack-legacy-token",
        High,
        "Slack legacy token",
        "`xoxs-`/`xoxo-` tokens: numeric ids and a hex tail.",
        ["xoxs-", "xoxo-"],
        r#"\b(?P<s>xox[os]-\d+-\d+-\d+-[a-f0-9]{10,})\b"#
    ),
    rule!(
        "slack-webhook-url",
        High,
        "Slack incoming webhook URL",
        "`hooks.slack.com/services|workflows|triggers/...`.",
        ["hooks.slack.com"],
        r#"(?P<s>hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,120})"#
    ),
    // ----------------------------------------------------------------- Discord, Telegram
    rule!(
        "discord-bot-token",
        High,
        "Discord bot token",
        "Base64 user id (starting M/N/O), a 6-character timestamp and a 27-38 character HMAC, near the word Discord.",
        ["discord"],
        r#"(?i:discord)[^\n]{0,60}?\b(?P<s>[MNO][A-Za-z\d_\-]{23,25}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27,38})\b"#
    ),
    rule!(
        "discord-webhook-url",
        High,
        "Discord webhook URL",
        "`discord.com/api/webhooks/<id>/<token>`.",
        ["discord"],
        r#"(?P<s>discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68})"#
    ),
    rule!(
        "discord-client-secret",
        High,
        "Discord client secret",
        "32-character secret assigned to a name mentioning Discord and secret.",
        ["discord"],
        r#"(?i:discord)[\w.\-]{0,20}?(?i:secret)[\w.\-]{0,10}?["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9_\-]{32})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "telegram-bot-token",
        High,
        "Telegram bot token",
        "Bot API tokens: numeric bot id, `:AA`, 33 characters.",
        [":aa"],
        tok!(r#"\d{8,10}:AA[A-Za-z0-9_\-]{33}"#)
    ),
    // ----------------------------------------------------------------- Payments, commerce
    rule!(
        "stripe-secret-key",
        Critical,
        "Stripe secret key",
        "`sk_live_`/`sk_test_`/`sk_prod_` and 24+ characters.",
        ["sk_live_", "sk_test_", "sk_prod_"],
        r#"\b(?P<s>sk_(?:live|test|prod)_[A-Za-z0-9]{24,247})\b"#
    ),
    rule!(
        "stripe-restricted-key",
        High,
        "Stripe restricted key",
        "`rk_live_`/`rk_test_`/`rk_prod_` and 24+ characters.",
        ["rk_live_", "rk_test_", "rk_prod_"],
        r#"\b(?P<s>rk_(?:live|test|prod)_[A-Za-z0-9]{24,247})\b"#
    ),
    rule!(
        "stripe-webhook-secret",
        High,
        "Stripe webhook signing secret",
        "`whsec_` and 32+ characters.",
        ["whsec_"],
        r#"\b(?P<s>whsec_[A-Za-z0-9]{32,})\b"#
    ),
    rule!(
        "square-access-token",
        Critical,
        "Square access token",
        "`EAAA` + 60 characters, or legacy `sq0atp-` + 22.",
        ["eaaa", "sq0atp-"],
        tok!(r#"EAAA[A-Za-z0-9_\-]{60}|sq0atp-[A-Za-z0-9_\-]{22}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "square-oauth-secret",
        Critical,
        "Square OAuth secret",
        "`sq0csp-` and 43 characters.",
        ["sq0csp-"],
        tok!(r#"sq0csp-[A-Za-z0-9_\-]{43}"#)
    ),
    rule!(
        "paypal-braintree-access-token",
        Critical,
        "PayPal Braintree access token",
        "`access_token$production$<merchant id>$<32 hex>`.",
        ["access_token$production$"],
        r#"(?P<s>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})"#
    ),
    rule!(
        "paypal-client-secret",
        High,
        "PayPal REST client secret",
        "80-character secret assigned to a name mentioning PayPal and secret.",
        ["paypal"],
        r#"(?i:paypal)[\w.\-]{0,20}?(?i:secret)[\w.\-]{0,10}?["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9_\-]{80})\b"#
    ),
    rule!(
        "shopify-access-token",
        Critical,
        "Shopify access token",
        "`shpat_` and 32 hex characters.",
        ["shpat_"],
        r#"\b(?P<s>shpat_[a-fA-F0-9]{32})\b"#
    ),
    rule!(
        "shopify-custom-app-token",
        High,
        "Shopify custom app access token",
        "`shpca_` and 32 hex characters.",
        ["shpca_"],
        r#"\b(?P<s>shpca_[a-fA-F0-9]{32})\b"#
    ),
    rule!(
        "shopify-private-app-token",
        High,
        "Shopify private app access token",
        "`shppa_` and 32 hex characters.",
        ["shppa_"],
        r#"\b(?P<s>shppa_[a-fA-F0-9]{32})\b"#
    ),
    rule!(
        "shopify-shared-secret",
        High,
        "Shopify shared secret",
        "`shpss_` and 32 hex characters.",
        ["shpss_"],
        r#"\b(?P<s>shpss_[a-fA-F0-9]{32})\b"#
    ),
    rule!(
        "easypost-api-key",
        High,
        "EasyPost API key",
        "`EZAK` (production) or `EZTK` (test) and 54 characters.",
        ["ezak", "eztk"],
        r#"\b(?P<s>EZ[AT]K[a-zA-Z0-9]{54})\b"#
    ),
    rule!(
        "shippo-api-token",
        High,
        "Shippo API token",
        "`shippo_live_`/`shippo_test_` and 40 hex characters.",
        ["shippo_"],
        r#"\b(?P<s>shippo_(?:live|test)_[a-fA-F0-9]{40})\b"#
    ),
    rule!(
        "duffel-api-token",
        High,
        "Duffel API token",
        "`duffel_live_`/`duffel_test_` and 43 characters.",
        ["duffel_"],
        tok!(r#"duffel_(?:test|live)_[A-Za-z0-9_=\-]{43}"#)
    ),
    // ----------------------------------------------------------------- Messaging, email
    rule!(
        "twilio-api-key",
        High,
        "Twilio API key SID",
        "`SK` and 32 hex characters, near the word Twilio.",
        ["twilio"],
        r#"(?i:twilio)[^\n]{0,60}?\b(?P<s>SK[0-9a-fA-F]{32})\b"#
    ),
    rule!(
        "twilio-auth-token",
        Critical,
        "Twilio auth token",
        "32 hex characters assigned to a name mentioning Twilio and auth/token/secret.",
        ["twilio"],
        r#"(?i:twilio)[\w.\-]{0,30}?(?i:auth|token|secret)[\w.\-]{0,10}?["']?\s*[:=]\s*["']?(?P<s>[a-f0-9]{32})\b"#
    ),
    rule!(
        "sendgrid-api-key",
        High,
        "SendGrid API key",
        "`SG.`, 22 characters, `.`, 43 characters.",
        ["sg."],
        tok!(r#"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"#)
    ),
    rule!(
        "mailgun-private-api-key",
        High,
        "Mailgun private API key",
        "`key-` and 32 hex characters.",
        ["key-"],
        r#"\b(?P<s>key-[0-9a-f]{32})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "mailgun-public-key",
        Low,
        "Mailgun public validation key",
        "`pubkey-` and 32 hex characters.",
        ["pubkey-"],
        r#"\b(?P<s>pubkey-[0-9a-f]{32})\b"#
    ),
    rule!(
        "mailgun-webhook-signing-key",
        Medium,
        "Mailgun webhook signing key",
        "`<32 hex>-<8 hex>-<8 hex>` next to the word Mailgun.",
        ["mailgun"],
        ctx!(r#"mailgun"#, r#"[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}"#)
    ),
    rule!(
        "mailchimp-api-key",
        High,
        "Mailchimp API key",
        "32 hex characters, `-us` and the data-center number.",
        ["-us"],
        r#"\b(?P<s>[0-9a-f]{32}-us[0-9]{1,2})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "mandrill-api-key",
        High,
        "Mandrill (Mailchimp Transactional) API key",
        "22-character key assigned to a name mentioning Mandrill.",
        ["mandrill"],
        ctx!(r#"mandrill"#, r#"[A-Za-z0-9_\-]{22}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "messagebird-api-key",
        High,
        "MessageBird API key / client id",
        "25-character key or UUID assigned to a name mentioning MessageBird.",
        ["messagebird", "message_bird", "message-bird"],
        ctx!(
            r#"message[_\-]?bird"#,
            r#"[A-Za-z0-9]{25}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#
        )
    ),
    // ----------------------------------------------------------------- Observability, incident
    rule!(
        "datadog-api-key",
        High,
        "Datadog API key",
        "32 hex characters assigned to a name mentioning Datadog/DD_API.",
        ["datadog", "dd_api", "dd-api"],
        ctx!(r#"datadog|dd_api|dd-api"#, r#"[a-f0-9]{32}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "datadog-app-key",
        High,
        "Datadog application key",
        "40 hex characters assigned to a name mentioning Datadog/DD_APP.",
        ["datadog", "dd_app", "dd-app"],
        ctx!(r#"datadog|dd_app|dd-app"#, r#"[a-f0-9]{40}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "newrelic-user-api-key",
        High,
        "New Relic user API key",
        "`NRAK-` and 27 characters.",
        ["nrak-"],
        r#"\b(?P<s>NRAK-[A-Z0-9]{27})\b"#
    ),
    rule!(
        "newrelic-license-key",
        High,
        "New Relic ingest license key",
        "40 characters ending in `NRAL`.",
        ["nral"],
        r#"\b(?P<s>[a-f0-9]{36}NRAL)\b"#
    ),
    rule!(
        "newrelic-browser-api-token",
        Medium,
        "New Relic browser API token",
        "`NRJS-` and 19 hex characters.",
        ["nrjs-"],
        r#"\b(?P<s>NRJS-[a-f0-9]{19})\b"#
    ),
    rule!(
        "newrelic-insights-insert-key",
        High,
        "New Relic Insights insert key",
        "`NRII-` and 32 characters.",
        ["nrii-"],
        tok!(r#"NRII-[A-Za-z0-9_\-]{32}"#)
    ),
    rule!(
        "sentry-org-token",
        High,
        "Sentry organization auth token",
        "`sntrys_` and a base64 JSON payload with a secret.",
        ["sntrys_"],
        r#"\b(?P<s>sntrys_eyJ[A-Za-z0-9+/=_]{60,})"#
    ),
    rule!(
        "sentry-user-token",
        High,
        "Sentry user auth token",
        "`sntryu_` and 64 hex characters.",
        ["sntryu_"],
        r#"\b(?P<s>sntryu_[a-f0-9]{64})\b"#
    ),
    rule!(
        "sentry-legacy-token",
        Medium,
        "Sentry auth token (legacy)",
        "64 hex characters assigned to a name mentioning Sentry.",
        ["sentry"],
        ctx!(r#"sentry"#, r#"[a-f0-9]{64}"#)
    ),
    rule!(
        "pagerduty-api-key",
        High,
        "PagerDuty API key",
        "20-character key assigned to a name mentioning PagerDuty.",
        ["pagerduty", "pager_duty"],
        ctx!(r#"pager_?duty"#, r#"[A-Za-z0-9_+\-]{20}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "grafana-cloud-api-token",
        High,
        "Grafana Cloud API token",
        "`glc_` and base64 JSON.",
        ["glc_"],
        r#"\b(?P<s>glc_[A-Za-z0-9+/]{32,400}={0,2})"#,
        entropy = Some(3.5)
    ),
    rule!(
        "grafana-service-account-token",
        High,
        "Grafana service account token",
        "`glsa_`, 32 characters, `_`, 8 hex.",
        ["glsa_"],
        r#"\b(?P<s>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "grafana-api-key",
        High,
        "Grafana API key (legacy)",
        "Base64 JSON starting `{\"k\":\"`.",
        ["eyjrijoi"],
        r#"\b(?P<s>eyJrIjoi[A-Za-z0-9]{60,400}={0,2})"#
    ),
    rule!(
        "dynatrace-api-token",
        High,
        "Dynatrace API token",
        "`dt0c01.`, 24 characters, `.`, 64 characters.",
        ["dt0c01."],
        r#"\b(?P<s>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b"#
    ),
    rule!(
        "sumologic-access-id",
        Medium,
        "Sumo Logic access id",
        "`su` and 12 characters assigned to a name mentioning Sumo.",
        ["sumo"],
        ctx!(r#"sumo[a-z_.]{0,12}?access[_.]?id"#, r#"su[A-Za-z0-9]{12}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "sumologic-access-key",
        High,
        "Sumo Logic access key",
        "64 characters assigned to a name mentioning Sumo.",
        ["sumo"],
        ctx!(r#"sumo[a-z_.]{0,12}?access[_.]?key"#, r#"[A-Za-z0-9]{64}"#),
        entropy = Some(3.5)
    ),
    // ----------------------------------------------------------------- Identity, developer platforms
    rule!(
        "okta-api-token",
        High,
        "Okta API token",
        "`00` and 40 characters assigned to a name mentioning Okta.",
        ["okta"],
        ctx!(r#"okta"#, r#"00[A-Za-z0-9_\-]{40}"#),
        entropy = Some(4.0)
    ),
    rule!(
        "heroku-api-key",
        High,
        "Heroku API key (v2)",
        "`HRKU-AA` and 58 characters.",
        ["hrku-"],
        tok!(r#"HRKU-AA[0-9A-Za-z_\-]{50,70}"#)
    ),
    rule!(
        "heroku-api-key-legacy",
        High,
        "Heroku API key (legacy UUID)",
        "UUID assigned to a name mentioning Heroku.",
        ["heroku"],
        ctx!(r#"heroku"#, r#"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#)
    ),
    rule!(
        "vault-service-token",
        Critical,
        "HashiCorp Vault service token",
        "`hvs.` and 90+ characters.",
        ["hvs."],
        tok!(r#"hvs\.[A-Za-z0-9_\-]{90,120}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "vault-batch-token",
        High,
        "HashiCorp Vault batch token",
        "`hvb.` and 138+ characters.",
        ["hvb."],
        tok!(r#"hvb\.[A-Za-z0-9_\-]{138,300}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "vault-legacy-service-token",
        High,
        "HashiCorp Vault service token (legacy)",
        "Pre-1.10 service tokens: `s.` and 24 characters, assigned to a token/vault name.",
        ["token", "vault"],
        r#"(?i:token|vault)[\w.\-]{0,20}?["']?\s*(?:[:=]{1,2}|\s)\s*["']?(?P<s>s\.[A-Za-z0-9]{24})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "terraform-cloud-token",
        Critical,
        "Terraform Cloud / Enterprise API token",
        "14 characters, `.atlasv1.`, 60-70 characters.",
        [".atlasv1."],
        tok!(r#"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "terraform-password",
        High,
        "Password in Terraform/HCL",
        "A quoted literal assigned to a `*password*` attribute in `.tf`, `.tfvars` or `.hcl` files (not a variable reference).",
        ["password", "passwd"],
        r#"(?i:[\w]*(?:password|passwd)[\w]*)\s*=\s*"(?P<s>[^"$\s]{4,})""#,
        paths = &["*.tf", "*.tfvars", "*.hcl"]
    ),
    rule!(
        "doppler-token",
        High,
        "Doppler token",
        "`dp.pt.`/`dp.st.`/`dp.sa.`/`dp.ct.`/`dp.scim.`/`dp.audit.` and 40-44 characters.",
        ["dp."],
        r#"\b(?P<s>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b"#
    ),
    rule!(
        "linear-api-key",
        High,
        "Linear API key",
        "`lin_api_` and 40 characters.",
        ["lin_api_"],
        r#"\b(?P<s>lin_api_[A-Za-z0-9]{40})\b"#
    ),
    rule!(
        "linear-oauth-secret",
        High,
        "Linear OAuth client secret",
        "`lin_oauth_` and 64 hex characters.",
        ["lin_oauth_"],
        r#"\b(?P<s>lin_oauth_[a-f0-9]{64})\b"#
    ),
    rule!(
        "notion-api-token",
        High,
        "Notion integration token",
        "`ntn_`, 11 digits and 35 characters.",
        ["ntn_"],
        r#"\b(?P<s>ntn_\d{11}[A-Za-z0-9]{35})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "notion-legacy-token",
        High,
        "Notion integration token (legacy)",
        "`secret_` and 43 characters near the word Notion.",
        ["notion"],
        r#"(?i:notion)[^\n]{0,60}?\b(?P<s>secret_[A-Za-z0-9]{43})\b"#
    ),
    rule!(
        "postman-api-key",
        High,
        "Postman API key",
        "`PMAK-`, 24 hex, `-`, 34 hex.",
        ["pmak-"],
        r#"\b(?P<s>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b"#
    ),
    rule!(
        "1password-secret-key",
        Low,
        "1Password secret key",
        "1Password account secret keys: `A3-` and five dash-separated groups.",
        ["a3-"],
        r#"\b(?P<s>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "1password-service-account-token",
        Critical,
        "1Password service account token",
        "`ops_eyJ` and a long base64 JSON payload.",
        ["ops_eyj"],
        r#"\b(?P<s>ops_eyJ[A-Za-z0-9+/=]{250,})"#,
        entropy = Some(4.0)
    ),
    rule!(
        "databricks-api-token",
        High,
        "Databricks API token",
        "`dapi` and 32 hex characters, optionally `-<n>`.",
        ["dapi"],
        r#"\b(?P<s>dapi[a-f0-9]{32}(?:-\d)?)\b"#
    ),
    rule!(
        "cloudflare-api-token",
        High,
        "Cloudflare API token",
        "40-character token assigned to a name mentioning Cloudflare.",
        ["cloudflare"],
        ctx!(r#"cloudflare"#, r#"[A-Za-z0-9_\-]{40}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "cloudflare-global-api-key",
        Critical,
        "Cloudflare global API key",
        "37 hex characters assigned to a name mentioning Cloudflare.",
        ["cloudflare"],
        ctx!(r#"cloudflare"#, r#"[a-f0-9]{37}"#)
    ),
    rule!(
        "cloudflare-origin-ca-key",
        High,
        "Cloudflare Origin CA key",
        "`v1.0-`, 24 hex, `-`, 146 hex.",
        ["v1.0-"],
        r#"\b(?P<s>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b"#
    ),
    rule!(
        "flyio-access-token",
        High,
        "Fly.io access token",
        "`fo1_` + 43 characters, or macaroon tokens `FlyV1 fm1_/fm2_...`.",
        ["fo1_", "flyv1"],
        tok!(r#"fo1_[A-Za-z0-9_\-]{43}|FlyV1 fm[12][ar]?_[A-Za-z0-9+/=_\-]{100,}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "openshift-user-token",
        High,
        "OpenShift user token",
        "`sha256~` and 43 URL-safe characters.",
        ["sha256~"],
        tok!(r#"sha256~[A-Za-z0-9_\-]{43}"#),
        entropy = Some(3.5)
    ),
    rule!(
        "snyk-api-token",
        High,
        "Snyk API token",
        "UUID assigned to a name mentioning Snyk.",
        ["snyk"],
        ctx!(r#"snyk"#, r#"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#)
    ),
    rule!(
        "sonarqube-token",
        High,
        "SonarQube / SonarCloud token",
        "`squ_`/`sqp_`/`sqa_` tokens, or 40 characters assigned to a name mentioning Sonar.",
        ["sonar", "squ_", "sqp_", "sqa_"],
        r#"(?:(?i:sonar)[\w.\-]{0,20}?["']?\s*(?:[:=]{1,4}|=>|\?=)\s*["']?)?\b(?P<s>sq[upa]_[A-Za-z0-9]{40}|[A-Za-z0-9]{40})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "sourcegraph-access-token",
        High,
        "Sourcegraph access token",
        "`sgp_` tokens (with optional instance id or `local`).",
        ["sgp_"],
        r#"\b(?P<s>sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})\b"#,
        entropy = Some(3.0)
    ),
    rule!(
        "sourcegraph-legacy-token",
        Medium,
        "Sourcegraph access token (legacy)",
        "40 hex characters assigned to a name mentioning Sourcegraph.",
        ["sourcegraph"],
        ctx!(r#"sourcegraph"#, r#"[a-fA-F0-9]{40}"#),
        entropy = Some(3.0)
    ),
    rule!(
        "buildkite-agent-token",
        High,
        "Buildkite user API token",
        "`bkua_` and 40 hex characters.",
        ["bkua_"],
        r#"\b(?P<s>bkua_[a-f0-9]{40})\b"#
    ),
    rule!(
        "circleci-pat",
        High,
        "CircleCI personal API token",
        "`CCIPAT_`, 22 characters, `_`, 40 hex.",
        ["ccipat_"],
        r#"\b(?P<s>CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b"#
    ),
    rule!(
        "tailscale-key",
        High,
        "Tailscale key",
        "`tskey-<kind>-<id>-<secret>`.",
        ["tskey-"],
        r#"\b(?P<s>tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,})\b"#
    ),
    rule!(
        "pulumi-access-token",
        High,
        "Pulumi access token",
        "`pul-` and 40 hex characters.",
        ["pul-"],
        r#"\b(?P<s>pul-[a-f0-9]{40})\b"#
    ),
    rule!(
        "planetscale-token",
        High,
        "PlanetScale token or password",
        "`pscale_tkn_`/`pscale_pw_`/`pscale_oauth_` and 32-64 characters.",
        ["pscale_"],
        r#"\b(?P<s>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.\-]{32,64})\b"#
    ),
    rule!(
        "supabase-access-token",
        High,
        "Supabase personal access token",
        "`sbp_` and 40 hex characters.",
        ["sbp_"],
        r#"\b(?P<s>sbp_[a-f0-9]{40})\b"#
    ),
    rule!(
        "figma-pat",
        High,
        "Figma personal access token",
        "`figd_` and 40 characters.",
        ["figd_"],
        tok!(r#"figd_[A-Za-z0-9_\-]{40}"#)
    ),
    rule!(
        "prefect-api-token",
        High,
        "Prefect API key",
        "`pnu_` and 36 characters.",
        ["pnu_"],
        r#"\b(?P<s>pnu_[A-Za-z0-9]{36})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "readme-api-token",
        High,
        "ReadMe API key",
        "`rdme_` and 70 characters.",
        ["rdme_"],
        r#"\b(?P<s>rdme_[a-z0-9]{70})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "typeform-pat",
        High,
        "Typeform personal access token",
        "`tfp_` and 59 characters.",
        ["tfp_"],
        tok!(r#"tfp_[A-Za-z0-9_.=\-]{59}"#)
    ),
    rule!(
        "contentful-pat",
        High,
        "Contentful personal access token",
        "`CFPAT-` and 43 characters.",
        ["cfpat-"],
        tok!(r#"CFPAT-[A-Za-z0-9_\-]{43}"#)
    ),
    rule!(
        "mapbox-secret-token",
        High,
        "Mapbox secret token",
        "`sk.eyJ1Ijoi` (base64 JSON with the user name) and a signature.",
        ["sk.eyj1ijoi"],
        tok!(r#"sk\.eyJ1Ijoi[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{22}"#)
    ),
    rule!(
        "airtable-pat",
        High,
        "Airtable personal access token",
        "`pat`, 14 characters, `.`, 64 hex characters.",
        ["pat"],
        r#"\b(?P<s>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b"#
    ),
    rule!(
        "dropbox-access-token",
        High,
        "Dropbox short-lived access token",
        "`sl.` and 130-140 characters.",
        ["sl."],
        tok!(r#"sl\.[A-Za-z0-9_\-]{130,140}"#),
        entropy = Some(4.0)
    ),
    rule!(
        "artifactory-api-key",
        High,
        "JFrog Artifactory API key",
        "`AKCp` and 69 characters.",
        ["akcp"],
        r#"\b(?P<s>AKCp[A-Za-z0-9]{69})\b"#,
        entropy = Some(4.0)
    ),
    rule!(
        "artifactory-reference-token",
        High,
        "JFrog Artifactory reference token",
        "`cmVmdGtu` (base64 `reftkn`) and 56 characters.",
        ["cmvmdgtu"],
        r#"\b(?P<s>cmVmdGtu[A-Za-z0-9]{56})\b"#,
        entropy = Some(4.0)
    ),
    rule!(
        "clojars-deploy-token",
        High,
        "Clojars deploy token",
        "`CLOJARS_` and 60 characters.",
        ["clojars_"],
        r#"\b(?P<s>CLOJARS_[a-z0-9]{60})\b"#
    ),
    rule!(
        "render-api-key",
        High,
        "Render API key",
        "`rnd_` and 32 characters.",
        ["rnd_"],
        r#"\b(?P<s>rnd_[A-Za-z0-9]{32})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "clickhouse-cloud-api-secret",
        High,
        "ClickHouse Cloud API secret key",
        "`4b1d` and 38 characters.",
        ["4b1d"],
        r#"(?:^|[^A-Za-z0-9])(?P<s>4b1d[A-Za-z0-9]{38})\b"#,
        entropy = Some(4.0)
    ),
    rule!(
        "octopus-deploy-api-key",
        High,
        "Octopus Deploy API key",
        "`API-` and 26 upper-case characters.",
        ["api-"],
        r#"\b(?P<s>API-[A-Z0-9]{26})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "infracost-api-token",
        High,
        "Infracost API token",
        "`ico-` and 32 characters.",
        ["ico-"],
        r#"(?:^|[^A-Za-z0-9_.\-])(?P<s>ico-[A-Za-z0-9]{32})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "intra42-client-secret",
        Medium,
        "42 Intra client secret",
        "`s-s4t2ud-`/`s-s4t2af-` and 64 hex characters.",
        ["s-s4t2"],
        r#"\b(?P<s>s-s4t2(?:ud|af)-[a-f0-9]{64})\b"#
    ),
    rule!(
        "maxmind-license-key",
        Medium,
        "MaxMind license key",
        "6 characters, `_`, 29 characters, `_mmk`.",
        ["_mmk"],
        r#"\b(?P<s>[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b"#
    ),
    rule!(
        "scalingo-api-token",
        High,
        "Scalingo API token",
        "`tk-us-` and 48 characters.",
        ["tk-us-"],
        tok!(r#"tk-us-[A-Za-z0-9_\-]{48}"#)
    ),
    rule!(
        "sidekiq-credentials",
        High,
        "Sidekiq Pro/Enterprise credentials",
        "`BUNDLE_ENTERPRISE__CONTRIBSYS__COM` / `BUNDLE_GEMS__CONTRIBSYS__COM` set to `user:password`.",
        ["contribsys__com"],
        r#"(?i:bundle_(?:enterprise|gems)__contribsys__com)["']?\s*[:=]\s*["']?(?P<s>[a-f0-9]{8}:[a-f0-9]{8})"#
    ),
    rule!(
        "facebook-app-secret",
        High,
        "Facebook app secret",
        "32 hex characters assigned to a name mentioning Facebook.",
        ["facebook"],
        ctx!(r#"facebook"#, r#"[a-f0-9]{32}"#)
    ),
    rule!(
        "facebook-access-token",
        High,
        "Facebook app access token",
        "`<app id>|<27 characters>` near the word Facebook.",
        ["facebook"],
        r#"(?i:facebook)[^\n]{0,40}?\b(?P<s>\d{15,16}(?:\||%7C)[A-Za-z0-9_\-]{27})"#
    ),
    rule!(
        "facebook-page-access-token",
        High,
        "Facebook page/user access token",
        "`EAA` + a letter and 90+ characters.",
        ["eaa"],
        r#"\b(?P<s>EAA[A-Z][A-Za-z0-9]{90,})\b"#,
        entropy = Some(4.0)
    ),
    rule!(
        "hubspot-api-key",
        High,
        "HubSpot API key",
        "UUID assigned to a name mentioning HubSpot.",
        ["hubspot"],
        ctx!(r#"hubspot"#, r#"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#)
    ),
    rule!(
        "hubspot-private-app-token",
        High,
        "HubSpot private app token",
        "`pat-<region>-` and a UUID.",
        ["pat-na", "pat-eu"],
        r#"\b(?P<s>pat-(?:na|eu)\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#
    ),
    // ----------------------------------------------------------------- AI providers
    rule!(
        "openai-api-key",
        Critical,
        "OpenAI API key",
        "Keys contain `T3BlbkFJ` (base64 of `OpenAI`); project/service/admin keys start `sk-proj-`, `sk-svcacct-`, `sk-admin-`.",
        ["t3blbkfj"],
        tok!(r#"sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200}"#)
    ),
    rule!(
        "anthropic-api-key",
        Critical,
        "Anthropic API key",
        "`sk-ant-api03-` and ~95 characters ending in `AA`.",
        ["sk-ant-api"],
        tok!(r#"sk-ant-api\d\d-[A-Za-z0-9_\-]{90,100}AA"#)
    ),
    rule!(
        "anthropic-admin-key",
        Critical,
        "Anthropic admin API key",
        "`sk-ant-admin01-` and ~95 characters ending in `AA`.",
        ["sk-ant-admin"],
        tok!(r#"sk-ant-admin\d\d-[A-Za-z0-9_\-]{90,100}AA"#)
    ),
    rule!(
        "huggingface-access-token",
        High,
        "Hugging Face access token",
        "`hf_` and 34 letters.",
        ["hf_"],
        r#"\b(?P<s>hf_[A-Za-z]{34})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "huggingface-org-token",
        High,
        "Hugging Face organization API token",
        "`api_org_` and 34 letters.",
        ["api_org_"],
        r#"\b(?P<s>api_org_[A-Za-z]{34})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "perplexity-api-key",
        High,
        "Perplexity API key",
        "`pplx-` and 48 characters.",
        ["pplx-"],
        r#"\b(?P<s>pplx-[A-Za-z0-9]{48})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "groq-api-key",
        High,
        "Groq API key",
        "`gsk_` and 52 characters.",
        ["gsk_"],
        r#"\b(?P<s>gsk_[A-Za-z0-9]{52})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "xai-api-key",
        High,
        "xAI API key",
        "`xai-` and 80 characters.",
        ["xai-"],
        r#"\b(?P<s>xai-[A-Za-z0-9]{80})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "replicate-api-token",
        High,
        "Replicate API token",
        "`r8_` and 37 characters.",
        ["r8_"],
        r#"\b(?P<s>r8_[A-Za-z0-9]{37})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "cohere-api-key",
        High,
        "Cohere API key",
        "40 characters assigned to a name mentioning Cohere / CO_API_KEY.",
        ["cohere", "co_api_key"],
        ctx!(r#"cohere|co_api_key"#, r#"[A-Za-z0-9]{40}"#),
        entropy = Some(3.5)
    ),
    // ----------------------------------------------------------------- Package registries
    rule!(
        "npm-access-token",
        Critical,
        "npm access token",
        "`npm_`, 30 base62 characters and a CRC-32 base62 checksum (verified).",
        ["npm_"],
        r#"\b(?P<s>npm_[A-Za-z0-9]{36})\b"#,
        checksum = Some(Checksum::Crc32Base62 { prefix_len: 4 })
    ),
    rule!(
        "npmrc-auth-token",
        High,
        "npm registry auth token in .npmrc",
        "`_authToken=` or `_auth=` (alone or after a `//registry/:` scope) with a literal value (not `${VAR}`), in the files npm and Yarn 1 read it from: `.npmrc`, `npmrc`, `.yarnrc`. Elsewhere such a line is left to the generic rule, which holds values to more.",
        ["_authtoken", "_auth"],
        r#"(?:^|[\s:"'])(?:_authToken|_auth)\s*=\s*["']?(?P<s>[A-Za-z0-9_.+/=\-]{20,})"#,
        entropy = Some(3.0),
        paths = &[".npmrc", "*/.npmrc", "npmrc", "*/npmrc", ".yarnrc", "*/.yarnrc"]
    ),
    rule!(
        "pypi-upload-token",
        Critical,
        "PyPI upload token",
        "`pypi-` and a macaroon whose base64 names pypi.org or test.pypi.org.",
        ["pypi-ag"],
        r#"\b(?P<s>pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,})"#
    ),
    rule!(
        "pypirc-password",
        High,
        "Password in .pypirc",
        "`password =` with a literal value in a `.pypirc` file.",
        ["password"],
        r#"(?i:password)\s*[:=]\s*(?P<s>[^\s$%]{6,})"#,
        paths = &[".pypirc", "*/.pypirc"]
    ),
    rule!(
        "rubygems-api-key",
        Critical,
        "RubyGems API key",
        "`rubygems_` and 48 hex characters.",
        ["rubygems_"],
        r#"\b(?P<s>rubygems_[a-f0-9]{48})\b"#
    ),
    rule!(
        "nuget-api-key",
        Critical,
        "NuGet API key",
        "`oy2` and 43 lower-case characters.",
        ["oy2"],
        r#"\b(?P<s>oy2[a-z0-9]{43})\b"#,
        entropy = Some(3.5)
    ),
    rule!(
        "nuget-config-password",
        High,
        "Cleartext password in NuGet.config",
        "`<add key=\"ClearTextPassword\"|\"Password\" value=\"...\"/>` in nuget.config files.",
        ["password"],
        r#"(?i:<add\s+key\s*=\s*"(?:ClearTextPassword|Password)"\s+value\s*=\s*")(?P<s>[^"]{4,})""#,
        paths = &["nuget.config", "*/nuget.config"],
        entropy = Some(2.5),
        allow = &[r"^%[^%]+%$"]
    ),
    rule!(
        "crates-io-api-token",
        Critical,
        "crates.io API token",
        "`cio` and 32 characters.",
        ["cio"],
        r#"\b(?P<s>cio[a-zA-Z0-9]{32})\b"#,
        entropy = Some(4.0)
    ),
    rule!(
        "dockerhub-pat",
        Critical,
        "Docker Hub personal access token",
        "`dckr_pat_` and 27 characters.",
        ["dckr_pat_"],
        tok!(r#"dckr_pat_[A-Za-z0-9_\-]{27}"#)
    ),
    rule!(
        "dockerhub-org-token",
        Critical,
        "Docker Hub organization access token",
        "`dckr_oat_` and 32 characters.",
        ["dckr_oat_"],
        tok!(r#"dckr_oat_[A-Za-z0-9_\-]{32}"#)
    ),
    rule!(
        "docker-config-auth",
        High,
        "Registry credentials in Docker config",
        "`\"auth\": \"<base64 user:password>\"` in `config.json` / `.dockerconfigjson`.",
        ["\"auth\""],
        r#""auth"\s*:\s*"(?P<s>[A-Za-z0-9+/]{12,}={0,2})""#,
        entropy = Some(3.0)
    ),
    rule!(
        "maven-settings-password",
        High,
        "Password in Maven settings.xml",
        "A literal `<password>` element (not `${...}`).",
        ["<password>"],
        r#"(?i:<password>)\s*(?P<s>[^<\s$][^<]{3,})</(?i:password)>"#,
        paths = &["settings.xml", "*/settings.xml", "settings-security.xml", "*/settings-security.xml"]
    ),
    // ----------------------------------------------------------------- Private keys
    rule!(
        "private-key-rsa",
        Critical,
        "RSA private key",
        "PEM `-----BEGIN RSA PRIVATE KEY-----` block (PKCS#1).",
        ["begin rsa private key"],
        r#"(?P<s>-----BEGIN RSA PRIVATE KEY-----[A-Za-z0-9+/=\s\\:,\-]{40,}?-----END RSA PRIVATE KEY-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-ec",
        Critical,
        "EC private key",
        "PEM `-----BEGIN EC PRIVATE KEY-----` block (SEC 1).",
        ["begin ec private key"],
        r#"(?P<s>-----BEGIN EC PRIVATE KEY-----[A-Za-z0-9+/=\s\\:,\-]{40,}?-----END EC PRIVATE KEY-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-dsa",
        Critical,
        "DSA private key",
        "PEM `-----BEGIN DSA PRIVATE KEY-----` block.",
        ["begin dsa private key"],
        r#"(?P<s>-----BEGIN DSA PRIVATE KEY-----[A-Za-z0-9+/=\s\\:,\-]{40,}?-----END DSA PRIVATE KEY-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-openssh",
        Critical,
        "OpenSSH private key",
        "`-----BEGIN OPENSSH PRIVATE KEY-----` block.",
        ["begin openssh private key"],
        r#"(?P<s>-----BEGIN OPENSSH PRIVATE KEY-----[A-Za-z0-9+/=\s\\]{40,}?-----END OPENSSH PRIVATE KEY-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-pkcs8",
        Critical,
        "PKCS#8 private key",
        "`-----BEGIN PRIVATE KEY-----` block (unencrypted PKCS#8).",
        ["begin private key"],
        r#"(?P<s>-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\s\\]{40,}?-----END PRIVATE KEY-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-pkcs8-encrypted",
        High,
        "Encrypted PKCS#8 private key",
        "`-----BEGIN ENCRYPTED PRIVATE KEY-----` block (passphrase protected).",
        ["begin encrypted private key"],
        r#"(?P<s>-----BEGIN ENCRYPTED PRIVATE KEY-----[A-Za-z0-9+/=\s\\]{40,}?-----END ENCRYPTED PRIVATE KEY-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-pgp",
        Critical,
        "PGP private key block",
        "ASCII-armored `-----BEGIN PGP PRIVATE KEY BLOCK-----`.",
        ["begin pgp private key block"],
        r#"(?P<s>-----BEGIN PGP PRIVATE KEY BLOCK-----[A-Za-z0-9+/=\s\\:,.()\-]{40,}?-----END PGP PRIVATE KEY BLOCK-----)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "private-key-putty",
        Critical,
        "PuTTY private key",
        "`PuTTY-User-Key-File-<n>:` files with a `Private-Lines:` section.",
        ["putty-user-key-file-"],
        r#"(?P<s>PuTTY-User-Key-File-\d: [^\r\n]+[\s\S]{0,4000}?Private-Lines: \d+)"#,
        multiline = true,
        redact = Redact::Header
    ),
    rule!(
        "age-secret-key",
        Critical,
        "age secret key",
        "`AGE-SECRET-KEY-1` and 58 bech32 characters.",
        ["age-secret-key-1"],
        r#"(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})"#
    ),
    rule!(
        "pkcs12-file",
        High,
        "PKCS#12 keystore file",
        "`.p12`/`.pfx` files hold private keys and certificates.",
        [],
        r#"(?i)\.(?:p12|pfx)$"#,
        detector = Detector::FileName
    ),
    // ----------------------------------------------------------------- Tokens, URLs, headers
    rule!(
        "jwt",
        Medium,
        "JSON Web Token",
        "Three base64url segments; header and payload are JSON objects (`eyJ`).",
        ["eyj"],
        r#"\b(?P<s>eyJ[A-Za-z0-9_\-]{10,}={0,2}\.eyJ[A-Za-z0-9_\-]{10,}={0,2}\.[A-Za-z0-9_\-]*={0,2})"#
    ),
    rule!(
        "url-credentials",
        High,
        "Credentials in a URL",
        "`scheme://user:password@host` with a literal password.",
        ["://"],
        r#"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@"'<>\\]{1,64}:(?P<s>[^\s:/@"'<>\\]{3,128})@[A-Za-z0-9][A-Za-z0-9.\-]*"#
    ),
    rule!(
        "connection-string-password",
        High,
        "Password in a connection string",
        "`Server=...;...Password=...;` (ADO.NET / ODBC style).",
        ["password", "pwd"],
        r#"(?i:server|data source|host|address|uid|user id)\s*=[^;"'\n]{1,200};[^"'\n]{0,300}?(?i:password|pwd)\s*=\s*(?P<s>[^;"'\s]{3,})"#
    ),
    rule!(
        "jdbc-url-password",
        High,
        "Password in a JDBC URL",
        "`jdbc:...password=<literal>`.",
        ["jdbc:"],
        r#"jdbc:[a-z0-9]+:[^\s"']*?[?&;:](?i:password)=(?P<s>[^&;\s"']{3,})"#
    ),
    rule!(
        "basic-auth-header",
        High,
        "HTTP Basic credentials",
        "`Authorization: Basic <base64 user:password>`.",
        ["basic"],
        r#"(?i:authorization)["']?\s*[:=]\s*["']?(?i:basic)\s+(?P<s>[A-Za-z0-9+/]{8,}={0,2})(?:[^A-Za-z0-9+/=]|$)"#
    ),
    rule!(
        "bearer-token-header",
        High,
        "HTTP bearer token",
        "`Authorization: Bearer <token>` with a literal token.",
        ["bearer"],
        r#"(?i:authorization)["']?\s*[:=]\s*["']?(?i:bearer)\s+(?P<s>[A-Za-z0-9_.~+/=\-]{16,})"#,
        entropy = Some(3.0)
    ),
    rule!(
        "http-auth-header",
        Medium,
        "Credential in an HTTP header",
        "`Authorization:`, `X-API-Key:`, `apikey:`, `Token:` headers with a literal value (e.g. in curl commands).",
        ["authorization", "api-key", "apikey", "token:", "api-token"],
        r#"["'](?i:authorization|x-api-key|api-?key|api-token|x-auth-token|token|x-[a-z\-]{1,30}-api-?key)\s*:\s*(?:(?i:token|api-token)\s+)?(?P<s>[A-Za-z0-9_.~+/=@\-]{8,})["']"#,
        entropy = Some(2.8)
    ),
    rule!(
        "curl-basic-auth",
        High,
        "Credentials in a curl command",
        "`curl ... -u|--user user:password`.",
        ["curl"],
        r#"\bcurl\b(?:[^\n\\]|\\[^\n]|\\\r?\n){0,400}?\s(?:-u|--user)\s*["']?(?P<s>[^\s"':$]*:[^\s"'$]{4,}|[^\s"'$]+["']?:["']?[^\s"'$]{4,})"#,
        multiline = true,
        allow = &[
            r#"(?i):["'{]*(?:test|pass|passwd|password|token|secret|changeme|x{3,}|y{3,}|\[[^\]]*\]|<[^>]*>)["'}]*$"#
        ]
    ),
    // ----------------------------------------------------------------- Kubernetes
    rule!(
        "kubernetes-secret",
        High,
        "Kubernetes Secret with inline data",
        "Every non-empty, non-templated value under `data:`/`stringData:` of a `kind: Secret` YAML document (including `.dockerconfigjson`).",
        ["kind: secret", "kind: 'secret'", "kind: \"secret\""],
        "",
        detector = Detector::K8sSecret,
        multiline = true
    ),
    rule!(
        "kubeconfig-client-key",
        Critical,
        "Client key in a kubeconfig",
        "`client-key-data:` holds a base64 private key.",
        ["client-key-data"],
        r#"client-key-data:\s*["']?(?P<s>[A-Za-z0-9+/=]{40,})"#
    ),
    rule!(
        "kubeconfig-token",
        High,
        "Bearer token in a kubeconfig",
        "`token:` of a kubeconfig user (long literal value).",
        ["token:"],
        r#"(?:^|\s)token:\s*["']?(?P<s>[A-Za-z0-9._~+/=\-]{20,})"#,
        entropy = Some(3.5)
    ),
    rule!(
        "dockerconfigjson-inline",
        High,
        "Docker registry credentials in a manifest",
        "`.dockerconfigjson:` with a base64 value.",
        [".dockerconfigjson"],
        r#"\.dockerconfigjson["']?\s*:\s*["']?(?P<s>[A-Za-z0-9+/]{20,}={0,2})"#
    ),
    // ----------------------------------------------------------------- Generic
    rule!(
        "generic-password",
        Medium,
        "Password assignment",
        "A literal value assigned to a `*password*`/`*passwd*`/`*pwd*` name or one ending in `_pass` (`pg_pass`, `DB_PASS`), with enough entropy and not a placeholder or code reference.",
        ["password", "passwd", "pwd", "passphrase", "_pass"],
        r#"(?P<k>(?i)[a-z0-9_.\-]*(?:(?:password|passwd|passphrase|pwd)[a-z0-9_.\-]*|_pass))["'\]]?\s*(?:[:=]{1,3}|=>)\s*(?:"([^"\s]{6,})"|'([^'\s]{6,})'|([^\s"'`,;()\[\]{}<>$]{8,})(?:[\s,;]|$))"#,
        entropy = Some(3.0),
        max_len = Some(120)
    ),
    rule!(
        "generic-api-key",
        Medium,
        "Secret/token/API key assignment",
        "A literal high-entropy value assigned to a name containing secret, token, api key, access key, auth key, credential or client secret.",
        [
            "secret",
            "token",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "accesskey",
            "auth",
            "credential",
            "private_key"
        ],
        r#"(?P<k>(?i)[a-z0-9_.\-]*(?:secret|token|api[_.\-]?key|access[_.\-]?key|auth|credentials?|private[_.\-]?key)[a-z0-9_.\-]*)["'\]]?\s*(?:[:=]{1,3}|=>|,)\s*(?:"([^"\s]{10,})"|'([^'\s]{10,})'|([^\s"'`,;()\[\]{}<>$]{16,})(?:[\s,;]|$))"#,
        entropy = Some(3.5),
        max_len = Some(200)
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Scanner};
    use std::collections::{BTreeMap, HashSet};

    const EXAMPLES: &str = include_str!("../tests/fixtures/rule_examples.txt");

    fn unescape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                match it.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// (rule, label) -> [(path, text)]
    fn examples() -> BTreeMap<(String, String), Vec<(String, String)>> {
        let mut m: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
        for line in EXAMPLES.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let parts: Vec<&str> = line.splitn(4, '\t').collect();
            let [id, label, path, text] = parts[..] else { panic!("bad example line: {line}") };
            m.entry((id.to_string(), label.to_string()))
                .or_default()
                .push((path.to_string(), unescape(text)));
        }
        m
    }

    #[test]
    fn ids_are_unique_and_documented() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(!r.title.is_empty() && !r.doc.is_empty(), "{} lacks title/doc", r.id);
            assert!(
                r.keywords.iter().all(|k| *k == k.to_ascii_lowercase()),
                "{} keywords must be lower case",
                r.id
            );
            assert!(r.detector == Detector::FileName || !r.keywords.is_empty(), "{} has no keywords", r.id);
        }
        assert!(RULES.len() >= 120, "only {} rules", RULES.len());
    }

    #[test]
    fn every_rule_finds_its_positive_and_ignores_its_negative_example() {
        let scanner = match Scanner::new(&Config::default()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let ex = examples();
        let mut failures = Vec::new();
        for r in RULES {
            for label in ["tp", "fp"] {
                let Some(cases) = ex.get(&(r.id.to_string(), label.to_string())) else {
                    failures.push(format!("{}: no {label} example", r.id));
                    continue;
                };
                for (path, text) in cases {
                    let hit = scanner.scan_bytes(path, text.as_bytes()).iter().any(|m| &*m.rule_id == r.id);
                    if hit != (label == "tp") {
                        failures.push(format!(
                            "{} {label}: {}",
                            r.id,
                            text.chars().take(120).collect::<String>()
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }
}
