// Jest setupFiles (jest.config.js), tests only: the AWS SDK for JavaScript v3 prints a
// NodeVersionSupportWarning once per loaded copy of its core, so once per test file (jest loads
// modules per file), on Node.js versions it plans to stop supporting. The SDK's documented switch
// turns it off ("End of Support for Node.js 20.x in AWS SDK for JavaScript",
// https://github.com/aws/aws-sdk-js-v3/issues/7983). The library and its handler leave it on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
