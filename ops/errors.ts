/** The errors ops/ throws, on the project's one base class (common/errors.ts). */
import { JengaError } from "../common/errors";

/** The reconciler could not read one side (a table, the checkpoint, a value of a shape it does
 * not expect), so nothing was compared. A difference between the sides is never an error: it is
 * the report. */
export class ReconcileError extends JengaError {
  override name = "ReconcileError";
}
