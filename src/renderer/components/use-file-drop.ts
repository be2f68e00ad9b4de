/**
 * A drop target for files from the desktop: `dragging` while files are held over it (for the dashed outline), and
 * the dropped files handed to `onFiles`. Drags of anything else (text, a timeline clip) are left alone.
 */
import { useState, type DragEvent } from 'react';

export interface FileDrop {
  dragging: boolean;
  handlers: { onDragOver: (e: DragEvent) => void; onDragLeave: (e: DragEvent) => void; onDrop: (e: DragEvent) => void };
}

export function useFileDrop(onFiles: (files: File[]) => void): FileDrop {
  const [dragging, setDragging] = useState(false);
  return {
    dragging,
    handlers: {
      onDragOver: (e) => {
        if (e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      },
      // Leaving a child is not leaving the target.
      onDragLeave: (e) => {
        if (e.currentTarget === e.target) setDragging(false);
      },
      onDrop: (e) => {
        e.preventDefault();
        setDragging(false);
        const files = [...e.dataTransfer.files];
        if (files.length > 0) onFiles(files);
      },
    },
  };
}
