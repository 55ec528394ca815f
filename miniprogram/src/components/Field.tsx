import { Input, Text, View } from '@tarojs/components';
import type { ReactNode } from 'react';

/** A labelled form row with its own error line under it. */
export function Field({ label, error, children, hint }: { label: string; error?: string; hint?: string; children: ReactNode }) {
  return (
    <View className={`field ${error ? 'field--error' : ''}`}>
      <View className='field__row'>
        <Text className='field__label'>{label}</Text>
        <View className='field__control'>{children}</View>
      </View>
      {hint && !error && <Text className='field__hint'>{hint}</Text>}
      {error && <Text className='field__error'>{error}</Text>}
    </View>
  );
}

type InputType = 'text' | 'number' | 'idcard' | 'digit';

export function TextField(props: {
  label: string;
  value: string;
  onChange(value: string): void;
  placeholder?: string;
  error?: string;
  hint?: string;
  type?: InputType;
  maxlength?: number;
  name?: string;
}) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      <Input
        className={`input field__input input--${props.name ?? 'text'}`}
        type={props.type ?? 'text'}
        value={props.value}
        placeholder={props.placeholder}
        maxlength={props.maxlength ?? 140}
        onInput={(e) => props.onChange(e.detail.value)}
      />
    </Field>
  );
}

/** Choices as chips (plans, terms, yes/no): each at least 44px tall. */
export function ChipGroup<T extends string>({
  options,
  value,
  onChange,
  name,
}: {
  options: Array<{ value: T; label: string }>;
  value: T | undefined;
  onChange(value: T): void;
  name?: string;
}) {
  return (
    <View className={`chips chips--${name ?? 'choice'}`}>
      {options.map((option) => (
        <View
          key={option.value}
          className={`chip ${value === option.value ? 'chip--active' : ''}`}
          onClick={() => onChange(option.value)}
        >
          <Text>{option.label}</Text>
        </View>
      ))}
    </View>
  );
}
