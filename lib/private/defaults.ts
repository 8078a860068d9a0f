import { RemovalPolicy } from 'aws-cdk-lib';

/**
 * The key's default removal policy, CloudFormation's `RetainExceptOnCreate`: the key is retained
 * when the stack is deleted or the key replaced, and deleted (scheduled for deletion) when its
 * own creation rolls back, so that a failed first deploy leaves no live key with material and
 * partner access outside any stack. Plain `Retain` keeps even a key whose creation rolled back
 * (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
 */
export const DEFAULT_KEY_REMOVAL_POLICY = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
