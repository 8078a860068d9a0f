import { DescribeKeyCommand, ImportKeyMaterialCommand, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { AwsStub } from 'aws-sdk-client-mock';

/**
 * Makes the mocked DescribeKey answer what KMS would after the mocked calls so far: the current
 * material is the first one imported, or the one the last successful RotateKeyOnDemand made
 * current (a NEW_KEY_MATERIAL import waits as pending); ValidTo is the current material's.
 * `initial` is the key's current material before the test's calls.
 */
export function describeKeyFollowsCalls(kms: AwsStub<any, any, any>, initial?: string): void {
  kms.on(DescribeKeyCommand).callsFake(async () => {
    let current = initial;
    let pending: string | undefined;
    let validTo: Date | undefined;
    for (const call of kms.calls()) {
      const command = call.args[0];
      const outcome = await Promise.resolve(call.returnValue).then((out: any) => ({ out }), () => undefined);
      if (!outcome) continue;
      if (command instanceof ImportKeyMaterialCommand) {
        const id = outcome.out?.KeyMaterialId;
        if (command.input.ImportType === 'NEW_KEY_MATERIAL' && current !== undefined) pending = id;
        else {
          current ??= id;
          if (id === current) validTo = command.input.ValidTo;
        }
      } else if (command instanceof RotateKeyOnDemandCommand && pending !== undefined) {
        current = pending;
        pending = undefined;
        validTo = undefined;
      }
    }
    return { KeyMetadata: { KeyId: 'k', CurrentKeyMaterialId: current, ValidTo: validTo } };
  });
}

