% Text
% Keiko's employer paid her a salary of $270,000, the last payment on December 29th, 2017.
% Keiko, who has never been married, elects to itemize: her itemized deductions for 2017
% amount to $30,000.
% (The itemized deductions are stated with the ontology's claim of itemized deductions,
% itemized_deductions_, not as a deduction_ event; the salary as a payment she receives.)
% By hand: §1(c). AGI $270,000 exceeds the §68(b)(1)(C) applicable amount of $250,000 by
% $20,000; §68(a) reduces the itemized deductions by the lesser of 3% of that ($600) and 80% of
% them ($24,000): $29,400 allowed. §151(d)(3): $20,000 / $2,500 = 8 steps of 2 points, 16%,
% so the exemption amount is $1,680. Taxable income $270,000 - $29,400 - $1,680 = $238,920;
% §1(c)(iv): $31,172 + 36% of $123,920 = $75,783.20, i.e. $75,783.
% Before the claim was read as itemized deductions, the standard deduction was taken: $85,839.

% Question
% Keiko's income tax for the year 2017 comes to how much? $75783

% Facts
:- [statutes/prolog/init].
itemized_deductions_(keiko_itemizes).
agent_(keiko_itemizes,keiko).
amount_(keiko_itemizes,30000).
start_(keiko_itemizes,"2017-12-31").
payment_(keiko_salary).
agent_(keiko_salary,keiko_employer).
patient_(keiko_salary,keiko).
amount_(keiko_salary,270000).
start_(keiko_salary,"2017-12-29").

% Test
:- tax(keiko,2017,75783).
:- halt.
