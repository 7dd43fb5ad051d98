% Text
% Gus and Hana have been married since August 8th, 2009 and file a joint return for 2017.
% Gus was paid $45000 in 2017; Hana had no income. They do not itemize and have no children.
% By hand: §63(c)(2)(A)(i) 200% of $3,000 = $6,000; two exemptions of $2,000; taxable income
% $35,000, not over $36,900: §1(a)(i), 15% = $5,250.

% Question
% How much tax does gus have to pay in 2017? $5250

% Facts
:- [statutes/prolog/init].
marriage_(gus_and_hana).
agent_(gus_and_hana,gus).
agent_(gus_and_hana,hana).
start_(gus_and_hana,"2009-08-08").
joint_return_(gus_and_hana_2017).
agent_(gus_and_hana_2017,gus).
agent_(gus_and_hana_2017,hana).
start_(gus_and_hana_2017,"2017-01-01").
end_(gus_and_hana_2017,"2017-12-31").
payment_(gus_paid).
patient_(gus_paid,gus).
amount_(gus_paid,45000).
start_(gus_paid,"2017-12-31").

% Test
:- tax(gus,2017,5250).
:- halt.
